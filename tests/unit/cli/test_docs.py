"""docs/cli.md's command reference is generated (scripts/gen_cli_docs.py): it must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gen_cli_docs.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_current() -> None:
    generator = _generator()
    current = generator.DOC.read_text()
    assert generator.render_document(current) == current, "run: python scripts/gen_cli_docs.py"


def test_reference_documents_every_az_style_command() -> None:
    reference = _generator().reference()
    for command in ("berth acr login", "berth acr token credential generate", "berth ad sp create-for-rbac"):
        assert f"#### {command}\n" in reference
    assert "`--expose-token`" not in reference  # options are listed with their short forms
    assert "`-t, --expose-token`" in reference
    assert "berth serve" not in reference
