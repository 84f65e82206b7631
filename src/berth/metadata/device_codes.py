"""Pending device authorizations (RFC 8628) in the database, so that the polling client, the
user's browser and whichever worker or replica each reaches agree on them.

The device code is a bearer secret until redeemed: only its SHA-256 is stored. The user code
is not (it is shown on a screen, and approving it takes the user's own password).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Float, Index, String, Table, Text, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from berth.metadata.schema import metadata

device_authorizations = Table(
    "device_authorizations",
    metadata,
    Column("device_code_hash", String(64), primary_key=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("client_id", String(256), nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Index("ix_device_authorizations_expires", "expires_at"),
)


@dataclass(frozen=True)
class DeviceRow:
    user_code: str
    client_id: str
    scope: str
    created_at: float
    expires_at: float
    approved_by: str | None


def hash_device_code(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def _row(found: object) -> DeviceRow:
    r = found._mapping  # type: ignore[attr-defined]
    return DeviceRow(
        r["user_code"], r["client_id"], r["scope"], r["created_at"], r["expires_at"], r["approved_by"]
    )


def expire(conn: Connection, now: float) -> None:
    conn.execute(delete(device_authorizations).where(device_authorizations.c.expires_at <= now))


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(device_authorizations)).scalar_one())


def insert(conn: Connection, device_code: str, row: DeviceRow) -> bool:
    """False when the user code is taken (the caller draws another)."""
    try:
        with conn.begin_nested():
            conn.execute(
                device_authorizations.insert().values(
                    device_code_hash=hash_device_code(device_code),
                    user_code=row.user_code,
                    client_id=row.client_id,
                    scope=row.scope,
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                    approved_by=None,
                )
            )
    except IntegrityError:
        return False
    return True


def by_user_code(conn: Connection, user_code: str) -> DeviceRow | None:
    found = conn.execute(
        select(device_authorizations).where(device_authorizations.c.user_code == user_code)
    ).first()
    return None if found is None else _row(found)


def approve(conn: Connection, user_code: str, object_id: str, now: float) -> bool:
    changed = conn.execute(
        update(device_authorizations)
        .where(
            device_authorizations.c.user_code == user_code,
            device_authorizations.c.approved_by.is_(None),
            device_authorizations.c.expires_at > now,
        )
        .values(approved_by=object_id)
    )
    return changed.rowcount == 1


def by_device_code(conn: Connection, device_code: str) -> DeviceRow | None:
    found = conn.execute(
        select(device_authorizations).where(
            device_authorizations.c.device_code_hash == hash_device_code(device_code)
        )
    ).first()
    return None if found is None else _row(found)


def remove(conn: Connection, device_code: str, *, approved_only: bool = False) -> bool:
    """Delete the authorization; with ``approved_only``, only if approved (single use: of two
    racing redeems exactly one deletes it)."""
    condition = device_authorizations.c.device_code_hash == hash_device_code(device_code)
    statement = delete(device_authorizations).where(condition)
    if approved_only:
        statement = statement.where(device_authorizations.c.approved_by.is_not(None))
    return conn.execute(statement).rowcount == 1
