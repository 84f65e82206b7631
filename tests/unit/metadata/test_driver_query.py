"""The token requests' reads on the DBAPI cursor return what the SQLAlchemy reads return,
on SQLite and PostgreSQL, and :meth:`Database.read_plain` runs them outside a transaction."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, bindparam, select

from berth.metadata import driver_query
from berth.metadata import identities as identity_rows
from berth.metadata import registry_access as access_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.access_schema import tokens
from berth.metadata.database import Database
from berth.metadata.driver_query import DriverInsert, DriverQuery
from berth.metadata.events_schema import login_events, repository_events
from berth.metadata.registries import RegistryRecord

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def test_an_identity_comes_with_each_of_its_role_assignments(db: Database) -> None:
    user = db.write_sync(identity_rows.create_user, "dev@corp.test", "Dev", "hash")
    first = db.write_sync(assignment_rows.create, user.id, ACR_PULL, "/subscriptions/a")
    second = db.write_sync(assignment_rows.create, user.id, ACR_PULL, "/subscriptions/b")
    other = db.write_sync(identity_rows.create_user, "other@corp.test", "Other", "hash")
    db.write_sync(assignment_rows.create, other.id, ACR_PULL, "/subscriptions/a")

    found = db.read_plain_sync(assignment_rows.identity_with_assignments, user.id)

    assert found is not None
    record, assignments = found
    assert record == db.read_sync(identity_rows.get, user.id)
    assert record.enabled is True
    assert sorted(assignments, key=lambda a: a.scope) == [first, second]
    assert sorted(assignments, key=lambda a: a.scope) == sorted(
        db.read_sync(assignment_rows.for_principal, user.id), key=lambda a: a.scope
    )


def test_an_identity_without_roles_and_one_that_does_not_exist(db: Database) -> None:
    sp = db.write_sync(identity_rows.create_service_principal, "ci")
    db.write_sync(identity_rows.set_enabled, sp.id, False)

    found = db.read_plain_sync(assignment_rows.identity_with_assignments, sp.id)

    assert found is not None
    assert found[0] == db.read_sync(identity_rows.get, sp.id)
    assert found[0].enabled is False
    assert found[1] == []
    assert db.read_plain_sync(assignment_rows.identity_with_assignments, "no-such-id") is None


def test_tokens_by_name_and_id_and_the_admin_passwords(db: Database, registry: RegistryRecord) -> None:
    token = db.write_sync(access_rows.create_token, registry.id, "CI-Token", "_repositories_pull", False)
    db.write_sync(access_rows.set_admin_password, registry.id, "password2", "hash-2")
    db.write_sync(access_rows.set_admin_password, registry.id, "password", "hash-1")

    assert db.read_plain_sync(access_rows.get_token, registry.id, "ci-token") == token
    assert db.read_plain_sync(access_rows.get_token_by_id, token.id) == token
    assert token.enabled is False
    assert db.read_plain_sync(access_rows.get_token, registry.id, "other") is None
    passwords = db.read_plain_sync(access_rows.admin_passwords_of, registry.id)
    assert [(p.name, p.secret_hash) for p in passwords] == [("password", "hash-1"), ("password2", "hash-2")]


def test_a_query_with_a_parameter_used_twice(db: Database, registry: RegistryRecord) -> None:
    """Positional paramstyles (SQLite's ``?``) get each occurrence in order."""
    db.write_sync(access_rows.create_token, registry.id, "same", "_repositories_pull")
    query = DriverQuery(
        select(tokens.c.name).where(
            tokens.c.name_lower == bindparam("name"), tokens.c.name == bindparam("name")
        )
    )

    assert db.read_plain_sync(query.rows, {"name": "same"}) == [{"name": "same"}]


def test_read_plain_opens_no_transaction_and_runs_off_the_loop(db: Database) -> None:
    user = db.write_sync(identity_rows.create_user, "dev@corp.test", "Dev", "hash")
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker")
    seen: dict[str, object] = {}

    def look(conn: Connection) -> object:
        seen["in_transaction"] = conn.in_transaction()
        seen["thread"] = threading.current_thread().name
        seen["marker"] = marker.get("")
        return assignment_rows.identity_with_assignments(conn, user.id)

    async def scenario() -> object:
        marker.set("from the request")
        return await db.read_plain(look)

    found = asyncio.run(scenario())

    assert found is not None
    assert seen == {"in_transaction": False, "thread": seen["thread"], "marker": "from the request"}
    assert str(seen["thread"]).startswith("berth-hot-reads")


def test_read_plain_works_in_a_forked_child(tmp_path: Path) -> None:
    """The parent's hot-read threads do not exist in a child: it makes its own."""
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    db.create_schema()
    user = db.write_sync(identity_rows.create_user, "dev@corp.test", "Dev", "hash")
    assert asyncio.run(db.read_plain(assignment_rows.identity_with_assignments, user.id)) is not None

    pid = os.fork()
    if pid == 0:  # the child: exit 0 if the read completes within 20 s
        signal.alarm(20)
        db.engine.dispose(close=False)  # SQLAlchemy's rule for a pool inherited over a fork
        found = asyncio.run(db.read_plain(assignment_rows.identity_with_assignments, user.id))
        os._exit(0 if found is not None else 1)
    _, status = os.waitpid(pid, 0)
    db.dispose()
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_insert_on_the_cursor_stores_what_a_core_insert_stores(db: Database) -> None:
    # The columns in an order of their own, a NULL and a large integer: each lands in its column.
    columns = (
        *("size", "time", "registry_id", "operation", "correlation_id"),
        *("result_type", "result_description", "repository", "digest"),
    )
    insert = DriverInsert(repository_events, columns)
    rows = [
        (2**62, 1.5, "r1", "Pull", "c-1", "Succeeded", "200", "library/a", "sha256:" + "a" * 64),
        (0, 2.5, "r1", "Push", "c-2", "Failed", "413", "library/b", ""),
    ]

    db.write_sync(insert.run, rows)
    db.write_sync(insert.run, [])  # nothing to insert is no statement at all

    def stored(conn: Connection) -> list[tuple[object, ...]]:
        query = select(*(repository_events.c[name] for name in columns)).order_by(repository_events.c.id)
        return [tuple(row) for row in conn.execute(query)]

    assert db.read_sync(stored) == rows
    # Columns left out take their defaults.
    defaults = db.read_sync(
        lambda conn: conn.execute(select(repository_events.c.tag, repository_events.c.detail)).all()
    )
    assert [tuple(row) for row in defaults] == [("", ""), ("", "")]


def test_an_insert_on_the_cursor_is_part_of_the_transaction(db: Database) -> None:
    insert = DriverInsert(
        login_events, ("time", "operation", "correlation_id", "result_type", "result_description")
    )

    def insert_then_fail(conn: Connection) -> None:
        insert.run(conn, [(1.0, "basic", "c-1", "Failed", "401")])
        raise RuntimeError("after the insert")

    with pytest.raises(RuntimeError):
        db.write_sync(insert_then_fail)
    assert db.read_sync(lambda conn: conn.execute(select(login_events.c.id)).all()) == []


def test_rows_past_one_statements_parameter_limit_go_in_several(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = ("time", "operation", "correlation_id", "result_type", "result_description")
    insert = DriverInsert(login_events, columns)
    monkeypatch.setattr(driver_query, "_parameter_limit", lambda conn: 12)  # two rows a statement
    rows = [(float(n), "basic", f"c-{n}", "Failed", "401") for n in range(7)]

    db.write_sync(insert.run, rows)

    query = select(*(login_events.c[name] for name in columns)).order_by(login_events.c.id)
    assert [tuple(row) for row in db.read_sync(lambda conn: conn.execute(query).all())] == rows


def test_batches_of_any_size_share_a_few_statements(tmp_path: Path) -> None:
    # Each distinct statement is prepared, and cached by the driver, per connection: a batch
    # size of its own each time would fill the cache with large statements. SQLite only:
    # PostgreSQL's driver takes the rows with executemany.
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    db.create_schema()
    columns = ("time", "operation", "correlation_id", "result_type", "result_description")
    insert = DriverInsert(login_events, columns)
    statements: set[int] = set()  # the row counts of the statements run

    def traced(conn: Connection, rows: list[tuple[object, ...]]) -> None:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        # The callback sees each statement with its values bound: told apart by their row count.
        raw.set_trace_callback(lambda sql: statements.add(sql.count("), (") + 1))
        try:
            insert.run(conn, rows)
        finally:
            raw.set_trace_callback(None)

    total = 0
    for size in range(1, 130):
        db.write_sync(traced, [(float(n), "basic", f"c-{n}", "Failed", "401") for n in range(size)])
        total += size

    assert len(statements) <= 8  # 1, 2, 4, ..., 128 rows
    count = db.read_sync(lambda conn: conn.execute(select(login_events.c.id)).all())
    db.dispose()
    assert len(count) == total
