"""A fresh metadata database per test, on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


@pytest.fixture
def registry(db: Database) -> RegistryRecord:
    return db.write_sync(registry_rows.create, "First")


@pytest.fixture
def second_registry(db: Database) -> RegistryRecord:
    return db.write_sync(registry_rows.create, "Second")
