"""Writing, querying and expiring events in the metadata database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Select, Table, delete, select

from berth.events.model import LoginEvent, RepositoryEvent
from berth.metadata.driver_query import DriverInsert
from berth.metadata.events_schema import login_events, repository_events


@dataclass(frozen=True)
class EventFilter:
    registry_id: str | None = None
    since: float | None = None
    until: float | None = None
    failed_only: bool = False
    succeeded_only: bool = False
    identity: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    repository: str | None = None
    operation: str | None = None
    after_id: int | None = None  # for --follow: only events newer than this row id
    limit: int = 100


def _columns(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


# An event's fields are its table's columns (strings, numbers and None), in one order for both.
_LOGIN_COLUMNS = _columns(LoginEvent)
_REPOSITORY_COLUMNS = _columns(RepositoryEvent)
_INSERT_LOGINS = DriverInsert(login_events, _LOGIN_COLUMNS)
_INSERT_REPOSITORY_EVENTS = DriverInsert(repository_events, _REPOSITORY_COLUMNS)
_login_values = attrgetter(*_LOGIN_COLUMNS)
_repository_values = attrgetter(*_REPOSITORY_COLUMNS)


def insert(conn: Connection, logins: Sequence[LoginEvent], repositories: Sequence[RepositoryEvent]) -> None:
    """Store events in ``conn``'s transaction (the event writer's batches)."""
    _INSERT_LOGINS.run(conn, [_login_values(event) for event in logins])
    _INSERT_REPOSITORY_EVENTS.run(conn, [_repository_values(event) for event in repositories])


def select_events(table: Table, where: EventFilter) -> Select[Any]:
    """The statement behind :func:`login_query` and :func:`repository_query`."""
    query = select(table)
    c = table.c
    if where.registry_id is not None:
        query = query.where(c.registry_id == where.registry_id)
    if where.since is not None:
        query = query.where(c.time >= where.since)
    if where.until is not None:
        query = query.where(c.time <= where.until)
    if where.failed_only:
        query = query.where(c.result_type == "Failed")
    if where.succeeded_only:
        query = query.where(c.result_type == "Succeeded")
    if where.identity:
        query = query.where(c.identity == where.identity)
    if where.correlation_id:
        query = query.where(c.correlation_id == where.correlation_id)
    if where.operation:
        query = query.where(c.operation == where.operation)
    if where.reason and "reason" in c:
        query = query.where(c.reason == where.reason)
    if where.repository and "repository" in c:
        query = query.where(c.repository == where.repository)
    if where.after_id is not None:
        query = query.where(c.id > where.after_id).order_by(c.id.asc())
    else:
        query = query.order_by(c.time.desc(), c.id.desc())
    return query.limit(max(1, min(where.limit, 10_000)))


def _query(conn: Connection, table: Table, where: EventFilter) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(select_events(table, where)).mappings()]


def login_query(conn: Connection, where: EventFilter) -> list[dict[str, Any]]:
    return _query(conn, login_events, where)


def repository_query(conn: Connection, where: EventFilter) -> list[dict[str, Any]]:
    return _query(conn, repository_events, where)


def purge(conn: Connection, older_than: float) -> int:
    removed = conn.execute(delete(login_events).where(login_events.c.time < older_than)).rowcount
    removed += conn.execute(delete(repository_events).where(repository_events.c.time < older_than)).rowcount
    return int(removed)
