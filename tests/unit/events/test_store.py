"""Event queries use the index that fits them (the table holds millions of rows; issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, Table
from sqlalchemy.dialects import sqlite

from berth.events import store
from berth.events.store import EventFilter
from berth.metadata.database import Database
from berth.metadata.events_schema import login_events, repository_events


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    database.create_schema()
    yield database
    database.dispose()


def plan(db: Database, query: Select[Any]) -> str:
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


@pytest.mark.parametrize("table", [login_events, repository_events], ids=["login", "repository"])
def test_a_correlation_id_lookup_uses_the_correlation_index(db: Database, table: Table) -> None:
    where = EventFilter(registry_id="r1", correlation_id="c1", failed_only=True, limit=200)
    assert f"{table.name}_correlation_time" in plan(db, store.select_events(table, where))


def test_events_since_use_the_registry_time_index(db: Database) -> None:
    query = store.select_events(login_events, EventFilter(registry_id="r1", since=1.0, limit=100))
    found = plan(db, query)
    assert "ix_login_events_registry_time" in found
    assert "TEMP B-TREE" not in found  # no sort of every matching row
