"""The portal driven in-process, with the management suite's fixtures (auth on, a known owner).

On SQLite only: the portal adds no SQL of its own beyond the repository search, which is checked
on both engines in tests/unit/portal/test_search.py; its pages call the management domain layer,
whose suites run on both.
"""

from pathlib import Path

import pytest

from tests.api.management.conftest import app, client, settings

__all__ = ["app", "client", "settings"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'metadata.db'}"
