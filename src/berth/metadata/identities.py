"""Directory identities: users (UPN + password) and service principals (app id + secrets)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, select, update
from sqlalchemy.engine import RowMapping

from berth.metadata.access_schema import identities, identity_secrets

USER = "user"
SERVICE_PRINCIPAL = "service_principal"


@dataclass(frozen=True)
class IdentityRecord:
    id: str
    kind: str
    display_name: str
    upn: str | None
    app_id: str | None
    password_hash: str | None
    enabled: bool
    created_at: float
    valid_after: float

    @property
    def name(self) -> str:
        """How the identity shows up in logs: the UPN of a user, the app id of an SP."""
        return self.upn or self.app_id or self.id


@dataclass(frozen=True)
class SecretRecord:
    id: str
    identity_id: str
    display_name: str
    hint: str
    secret_hash: str
    created_at: float
    expires_at: float


def identity_record(row: Mapping[str, Any] | RowMapping) -> IdentityRecord:
    return IdentityRecord(
        id=row["id"],
        kind=row["kind"],
        display_name=row["display_name"],
        upn=row["upn"],
        app_id=row["app_id"],
        password_hash=row["password_hash"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        valid_after=row["valid_after"],
    )


def _secret(row: RowMapping) -> SecretRecord:
    return SecretRecord(
        id=row["id"],
        identity_id=row["identity_id"],
        display_name=row["display_name"],
        hint=row["hint"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def _one(conn: Connection, condition: ColumnElement[bool]) -> IdentityRecord | None:
    row = conn.execute(select(identities).where(condition)).mappings().first()
    return identity_record(row) if row else None


# Built once: every bearer status check and refresh-token grant reads an identity by id, and
# building the statement per call cost more than SQLite's work (docs/performance.md).
_BY_ID = select(identities).where(identities.c.id == bindparam("identity_id"))


def get(conn: Connection, identity_id: str) -> IdentityRecord | None:
    row = conn.execute(_BY_ID, {"identity_id": identity_id}).mappings().first()
    return identity_record(row) if row else None


def by_upn(conn: Connection, upn: str) -> IdentityRecord | None:
    return _one(conn, identities.c.upn == upn.lower())


def by_app_id(conn: Connection, app_id: str) -> IdentityRecord | None:
    return _one(conn, identities.c.app_id == app_id.lower())


def list_all(conn: Connection, kind: str | None = None) -> list[IdentityRecord]:
    query = select(identities).order_by(identities.c.kind, identities.c.display_name)
    if kind is not None:
        query = query.where(identities.c.kind == kind)
    return [identity_record(row) for row in conn.execute(query).mappings()]


def create_user(conn: Connection, upn: str, display_name: str, password_hash: str) -> IdentityRecord:
    identity_id = str(uuid.uuid4())
    conn.execute(
        identities.insert().values(
            id=identity_id,
            kind=USER,
            display_name=display_name,
            upn=upn.lower(),
            password_hash=password_hash,
            created_at=time.time(),
        )
    )
    record = get(conn, identity_id)
    assert record is not None
    return record


def create_service_principal(conn: Connection, display_name: str) -> IdentityRecord:
    identity_id = str(uuid.uuid4())
    conn.execute(
        identities.insert().values(
            id=identity_id,
            kind=SERVICE_PRINCIPAL,
            display_name=display_name,
            app_id=str(uuid.uuid4()),
            created_at=time.time(),
        )
    )
    record = get(conn, identity_id)
    assert record is not None
    return record


def set_enabled(conn: Connection, identity_id: str, enabled: bool) -> None:
    values: dict[str, object] = {"enabled": enabled}
    if not enabled:
        values["valid_after"] = time.time()
    conn.execute(update(identities).where(identities.c.id == identity_id).values(**values))


def remove(conn: Connection, identity_id: str) -> bool:
    return conn.execute(delete(identities).where(identities.c.id == identity_id)).rowcount > 0


# --- service principal secrets --------------------------------------------------------------


def add_secret(
    conn: Connection, identity_id: str, secret_hash: str, hint: str, expires_at: float, display_name: str = ""
) -> SecretRecord:
    secret_id = str(uuid.uuid4())
    now = time.time()
    conn.execute(
        identity_secrets.insert().values(
            id=secret_id,
            identity_id=identity_id,
            display_name=display_name,
            hint=hint,
            secret_hash=secret_hash,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return SecretRecord(secret_id, identity_id, display_name, hint, secret_hash, now, expires_at)


def secrets(conn: Connection, identity_id: str) -> list[SecretRecord]:
    query = (
        select(identity_secrets)
        .where(identity_secrets.c.identity_id == identity_id)
        .order_by(identity_secrets.c.created_at)
    )
    return [_secret(row) for row in conn.execute(query).mappings()]


def remove_secrets(conn: Connection, identity_id: str, secret_id: str | None = None) -> int:
    statement = delete(identity_secrets).where(identity_secrets.c.identity_id == identity_id)
    if secret_id is not None:
        statement = statement.where(identity_secrets.c.id == secret_id)
    return conn.execute(statement).rowcount


def set_secret_expiry(conn: Connection, secret_id: str, expires_at: float) -> None:
    conn.execute(
        update(identity_secrets).where(identity_secrets.c.id == secret_id).values(expires_at=expires_at)
    )
