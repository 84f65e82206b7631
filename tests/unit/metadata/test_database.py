"""berth.metadata.database: schema, transactions and upsert on both engines."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import Connection, inspect, select, text, update

from berth.metadata import registries as registry_rows
from berth.metadata.database import Database, SchemaMismatch, normalize_url, upsert
from berth.metadata.events_schema import repository_events
from berth.metadata.schema import SCHEMA_VERSION, blobs, settings_table


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_create_schema_is_idempotent_and_records_the_version(db: Database) -> None:
    db.create_schema()

    version = db.read_sync(
        lambda conn: conn.execute(
            select(settings_table.c.value).where(settings_table.c.key == "schema_version")
        ).scalar_one()
    )
    assert int(version) == SCHEMA_VERSION


def test_a_newer_schema_is_refused(db: Database) -> None:
    def newer(conn: Connection) -> None:
        conn.execute(
            update(settings_table)
            .where(settings_table.c.key == "schema_version")
            .values(value=str(SCHEMA_VERSION + 1))
        )

    db.write_sync(newer)

    with pytest.raises(SchemaMismatch, match="newer than this berth"):
        db.create_schema()


def test_a_failed_write_rolls_back(db: Database) -> None:
    def fail(conn: Connection) -> None:
        registry_rows.create(conn, "Rolled")
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        db.write_sync(fail)

    assert db.read_sync(registry_rows.get_by_name, "rolled") is None


def test_upsert_inserts_then_updates_only_the_named_columns(db: Database) -> None:
    registry = db.write_sync(registry_rows.create, "Upserts")
    key = {"registry_id": registry.id, "digest": "sha256:" + "a" * 64}

    db.write_sync(upsert, blobs, {**key, "size": 1, "created_at": 1.0}, ("registry_id", "digest"), ("size",))
    db.write_sync(upsert, blobs, {**key, "size": 2, "created_at": 2.0}, ("registry_id", "digest"), ("size",))
    db.write_sync(upsert, blobs, {**key, "size": 3, "created_at": 3.0}, ("registry_id", "digest"), ())

    row = db.read_sync(lambda conn: conn.execute(select(blobs)).mappings().one())
    assert (row["size"], row["created_at"]) == (2, 1.0)


def test_async_read_and_write_run_in_worker_threads(db: Database) -> None:
    async def work() -> tuple[registry_rows.RegistryRecord, registry_rows.RegistryRecord | None]:
        created = await db.write(registry_rows.create, "AsyncReg")
        return created, await db.read(registry_rows.get_by_name, "asyncreg")

    created, found = anyio.run(work)

    assert found == created


def test_columns_added_after_the_first_release_are_added_to_an_older_database(db: Database) -> None:
    """A database of schema version 1 without the later columns gains them at start, rows kept."""
    record = db.write_sync(registry_rows.create, "Older")

    def as_released(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE registries DROP COLUMN storage_quota"))
        conn.execute(text("ALTER TABLE repository_events DROP COLUMN reason"))
        conn.execute(text("ALTER TABLE repository_events DROP COLUMN detail"))

    db.write_sync(as_released)
    db.create_schema()

    def columns(conn: Connection, table: str) -> set[str]:
        return {column["name"] for column in inspect(conn).get_columns(table)}

    assert "storage_quota" in db.read_sync(columns, "registries")
    assert {"reason", "detail"} <= db.read_sync(columns, "repository_events")
    kept = db.read_sync(registry_rows.get_by_id, record.id)
    assert kept is not None
    assert kept.storage_quota is None


def test_an_index_missing_from_an_older_database_is_created(db: Database) -> None:
    index = next(i for i in repository_events.indexes if i.name == "ix_repository_events_correlation_time")
    with db.engine.begin() as conn:
        index.drop(conn)
        assert index.name not in {i["name"] for i in inspect(conn).get_indexes("repository_events")}
    db.create_schema()
    with db.engine.connect() as conn:
        assert index.name in {i["name"] for i in inspect(conn).get_indexes("repository_events")}
