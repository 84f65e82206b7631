"""Service-wide values created once and kept in the database (tenant, subscription, keys)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, select

from berth.metadata.database import upsert
from berth.metadata.schema import settings_table


def get(conn: Connection, key: str) -> str | None:
    row = conn.execute(select(settings_table.c.value).where(settings_table.c.key == key)).first()
    return str(row[0]) if row else None


def get_or_create(conn: Connection, key: str, factory: Callable[[], str]) -> str:
    """The stored value, or ``factory()`` stored under ``key`` if there is none (race-safe)."""
    existing = get(conn, key)
    if existing is not None:
        return existing
    upsert(conn, settings_table, {"key": key, "value": factory()}, keys=("key",), update=())
    stored = get(conn, key)
    assert stored is not None
    return stored


def put(conn: Connection, key: str, value: str) -> None:
    upsert(conn, settings_table, {"key": key, "value": value}, keys=("key",), update=("value",))
