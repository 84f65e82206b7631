"""docs/api.md's tables are generated from the routes (scripts/gen_api_table.py): they must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from berth.registry.routes import ROUTES

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gen_api_table.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_table", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_tables_are_current() -> None:
    generator = _generator()
    current = generator.DOC.read_text()

    assert generator.render(current) == current, "run: python scripts/gen_api_table.py"


def test_every_oci_route_has_its_answers_described() -> None:
    described = _generator().RESPONSES

    assert {r.name for r in ROUTES if r.template.startswith("/v2/")} == set(described)


def test_every_route_is_in_the_table() -> None:
    tables = _generator().tables()

    for route in ROUTES:
        assert f"| `{route.template}` | `{route.name}` |" in tables
