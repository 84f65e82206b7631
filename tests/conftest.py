"""Fixtures every suite may use.

- ``postgres_admin_url`` (session): a PostgreSQL server, started here when none is configured.
- ``database_url``: parametrized over SQLite and PostgreSQL; each test gets an empty database.
  Metadata and API tests take this fixture so they run against both engines.
- ``s3_server`` and ``azure_server`` (session): moto and Azurite, started on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.objectstores import AzureServer, S3Server, azurite_server, moto_server
from tests.support.postgres import create_database, postgres_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    return create_database(admin_url)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto in server mode, the S3 test server (tests/support/objectstores.py)."""
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def azure_server() -> Iterator[AzureServer]:
    """Azurite, the Azure Blob Storage emulator (tests/support/objectstores.py)."""
    with azurite_server() as server:
        yield server
