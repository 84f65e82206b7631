"""Every field of an event is stored in its own column of ``events_schema``'s tables and read
back unchanged, on SQLite and PostgreSQL (the event writer inserts on the DBAPI cursor,
:class:`~berth.metadata.driver_query.DriverInsert`, not with SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from berth.events import store
from berth.events.model import LoginEvent, RepositoryEvent
from berth.events.store import EventFilter
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord


def login(registry_id: str | None, n: int) -> LoginEvent:
    return LoginEvent(
        time=1000.0 + n,
        registry_id=registry_id,
        registry="first",
        login_server="first.azurecr.test",
        operation="basic",
        identity=f"dev{n}@corp.test",
        identity_kind="user",
        caller_ip="10.0.0.7",
        user_agent="docker/27.0 go/1.22",
        jwt_id=f"jti-{n}",
        correlation_id=f"cid-{n}",
        duration_ms=12.345,
        result_type="Failed",
        result_description="401",
        reason="password_mismatch",
        detail="the password does not match 'dév' (ünïcode kept)",
        requested_scopes="repository:app:pull",
        granted_scopes="",
    )


def repository_event(registry_id: str, n: int) -> RepositoryEvent:
    return RepositoryEvent(
        time=2000.0 + n,
        registry_id=registry_id,
        registry="first",
        login_server="first.azurecr.test",
        operation="Push",
        identity="ci",
        identity_kind="servicePrincipal",
        caller_ip="10.0.0.8",
        user_agent="oras/1.2",
        correlation_id=f"cid-r{n}",
        duration_ms=3.5,
        result_type="Succeeded",
        result_description="201",
        repository="team/app",
        tag=f"v{n}",
        digest="sha256:" + "b" * 64,
        media_type="application/vnd.oci.image.manifest.v1+json",
        artifact_type="application/vnd.example+type",
        size=2**40 + n,
        reason="",
        detail="",
    )


def test_events_are_stored_column_by_column(db: Database, registry: RegistryRecord) -> None:
    logins = [login(registry.id, 1), login(None, 2)]  # a directory sign-in has no registry
    repositories = [repository_event(registry.id, n) for n in range(3)]

    db.write_sync(store.insert, logins, repositories)
    db.write_sync(store.insert, [], [])

    stored_logins = db.read_sync(store.login_query, EventFilter(limit=10))
    stored_repositories = db.read_sync(store.repository_query, EventFilter(registry_id=registry.id, limit=10))
    assert without_ids(stored_logins) == [asdict(event) for event in logins]
    assert without_ids(stored_repositories) == [asdict(event) for event in repositories]


def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows oldest first, without the id the database gave them."""
    stripped = [{key: value for key, value in row.items() if key != "id"} for row in rows]
    return sorted(stripped, key=lambda row: float(row["time"]))
