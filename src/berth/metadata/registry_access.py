"""Per-registry credentials: the admin user's two passwords, scope maps and scoped tokens."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.engine import RowMapping

from berth.metadata.access_schema import admin_passwords, scope_maps, token_passwords, tokens
from berth.metadata.database import upsert
from berth.metadata.driver_query import DriverQuery


@dataclass(frozen=True)
class StoredPassword:
    name: str
    secret_hash: str
    created_at: float
    expires_at: float | None = None


@dataclass(frozen=True)
class ScopeMapRecord:
    id: str
    registry_id: str
    name: str
    description: str
    actions: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class TokenRecord:
    id: str
    registry_id: str
    name: str
    scope_map: str
    enabled: bool
    created_at: float
    valid_after: float


# --- admin user -----------------------------------------------------------------------------


# Built once: every token request with the admin user's password runs these (building a
# statement per call cost more than SQLite's work; docs/performance.md).
# Read on every Basic token request as the admin user: run on the DBAPI cursor (driver_query).
_ADMIN_PASSWORDS = DriverQuery(
    select(admin_passwords.c.name, admin_passwords.c.secret_hash, admin_passwords.c.created_at)
    .where(admin_passwords.c.registry_id == bindparam("registry_id"))
    .order_by(admin_passwords.c.name)
)


def admin_passwords_of(conn: Connection, registry_id: str) -> list[StoredPassword]:
    return [
        StoredPassword(row["name"], row["secret_hash"], row["created_at"])
        for row in _ADMIN_PASSWORDS.rows(conn, {"registry_id": registry_id})
    ]


def set_admin_password(conn: Connection, registry_id: str, name: str, secret_hash: str) -> None:
    upsert(
        conn,
        admin_passwords,
        {"registry_id": registry_id, "name": name, "secret_hash": secret_hash, "created_at": time.time()},
        keys=("registry_id", "name"),
        update=("secret_hash", "created_at"),
    )


# --- scope maps -----------------------------------------------------------------------------


def _scope_map(row: RowMapping) -> ScopeMapRecord:
    return ScopeMapRecord(
        row["id"],
        row["registry_id"],
        row["name"],
        row["description"],
        tuple(json.loads(row["actions"])),
        row["created_at"],
    )


def get_scope_map(conn: Connection, registry_id: str, name: str) -> ScopeMapRecord | None:
    query = select(scope_maps).where(
        scope_maps.c.registry_id == registry_id, scope_maps.c.name_lower == name.lower()
    )
    row = conn.execute(query).mappings().first()
    return _scope_map(row) if row else None


def list_scope_maps(conn: Connection, registry_id: str) -> list[ScopeMapRecord]:
    query = (
        select(scope_maps).where(scope_maps.c.registry_id == registry_id).order_by(scope_maps.c.name_lower)
    )
    return [_scope_map(row) for row in conn.execute(query).mappings()]


def put_scope_map(
    conn: Connection, registry_id: str, name: str, actions: list[str], description: str = ""
) -> ScopeMapRecord:
    existing = get_scope_map(conn, registry_id, name)
    if existing is None:
        conn.execute(
            scope_maps.insert().values(
                id=str(uuid.uuid4()),
                registry_id=registry_id,
                name=name,
                name_lower=name.lower(),
                description=description,
                actions=json.dumps(actions),
                created_at=time.time(),
            )
        )
    else:
        conn.execute(
            update(scope_maps)
            .where(scope_maps.c.id == existing.id)
            .values(actions=json.dumps(actions), description=description)
        )
    record = get_scope_map(conn, registry_id, name)
    assert record is not None
    return record


def remove_scope_map(conn: Connection, registry_id: str, name: str) -> bool:
    statement = delete(scope_maps).where(
        scope_maps.c.registry_id == registry_id, scope_maps.c.name_lower == name.lower()
    )
    return conn.execute(statement).rowcount > 0


# --- tokens ---------------------------------------------------------------------------------


def _token(row: Mapping[str, Any] | RowMapping) -> TokenRecord:
    return TokenRecord(
        row["id"],
        row["registry_id"],
        row["name"],
        row["scope_map"],
        bool(row["enabled"]),
        row["created_at"],
        row["valid_after"],
    )


# Every Basic request (a token's name is tried first) and every refresh or bearer check of a
# scoped token reads one of these: run on the DBAPI cursor (driver_query).
_TOKEN_BY_NAME = DriverQuery(
    select(tokens).where(
        tokens.c.registry_id == bindparam("registry_id"), tokens.c.name_lower == bindparam("name_lower")
    )
)


def get_token(conn: Connection, registry_id: str, name: str) -> TokenRecord | None:
    rows = _TOKEN_BY_NAME.rows(conn, {"registry_id": registry_id, "name_lower": name.lower()})
    return _token(rows[0]) if rows else None


_TOKEN_BY_ID = DriverQuery(select(tokens).where(tokens.c.id == bindparam("token_id")))


def get_token_by_id(conn: Connection, token_id: str) -> TokenRecord | None:
    rows = _TOKEN_BY_ID.rows(conn, {"token_id": token_id})
    return _token(rows[0]) if rows else None


def list_tokens(conn: Connection, registry_id: str) -> list[TokenRecord]:
    query = select(tokens).where(tokens.c.registry_id == registry_id).order_by(tokens.c.name_lower)
    return [_token(row) for row in conn.execute(query).mappings()]


def tokens_using_scope_map(conn: Connection, registry_id: str, scope_map: str) -> list[TokenRecord]:
    return [t for t in list_tokens(conn, registry_id) if t.scope_map.lower() == scope_map.lower()]


def create_token(
    conn: Connection, registry_id: str, name: str, scope_map: str, enabled: bool = True
) -> TokenRecord:
    token_id = str(uuid.uuid4())
    conn.execute(
        tokens.insert().values(
            id=token_id,
            registry_id=registry_id,
            name=name,
            name_lower=name.lower(),
            scope_map=scope_map,
            enabled=enabled,
            created_at=time.time(),
        )
    )
    record = get_token_by_id(conn, token_id)
    assert record is not None
    return record


def update_token(
    conn: Connection, token_id: str, *, scope_map: str | None = None, enabled: bool | None = None
) -> None:
    values: dict[str, object] = {}
    if scope_map is not None:
        values["scope_map"] = scope_map
    if enabled is not None:
        values["enabled"] = enabled
        if not enabled:
            values["valid_after"] = time.time()
    if values:
        conn.execute(update(tokens).where(tokens.c.id == token_id).values(**values))


def remove_token(conn: Connection, token_id: str) -> bool:
    return conn.execute(delete(tokens).where(tokens.c.id == token_id)).rowcount > 0


def token_passwords_of(conn: Connection, token_id: str) -> list[StoredPassword]:
    query = (
        select(token_passwords).where(token_passwords.c.token_id == token_id).order_by(token_passwords.c.name)
    )
    return [
        StoredPassword(row["name"], row["secret_hash"], row["created_at"], row["expires_at"])
        for row in conn.execute(query).mappings()
    ]


def set_token_password(
    conn: Connection, token_id: str, name: str, secret_hash: str, expires_at: float | None
) -> StoredPassword:
    now = time.time()
    upsert(
        conn,
        token_passwords,
        {
            "token_id": token_id,
            "name": name,
            "secret_hash": secret_hash,
            "created_at": now,
            "expires_at": expires_at,
        },
        keys=("token_id", "name"),
        update=("secret_hash", "created_at", "expires_at"),
    )
    return StoredPassword(name, secret_hash, now, expires_at)


def remove_token_password(conn: Connection, token_id: str, name: str) -> bool:
    statement = delete(token_passwords).where(
        token_passwords.c.token_id == token_id, token_passwords.c.name == name
    )
    return conn.execute(statement).rowcount > 0
