"""Token-signing keys, kept in the database so every replica signs and verifies alike."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from berth.metadata.access_schema import signing_keys


@dataclass(frozen=True)
class SigningKeyRecord:
    kid: str
    private_pem: str
    created_at: float
    retired_at: float | None


def list_all(conn: Connection) -> list[SigningKeyRecord]:
    query = select(signing_keys).order_by(signing_keys.c.created_at)
    return [
        SigningKeyRecord(row["kid"], row["private_pem"], row["created_at"], row["retired_at"])
        for row in conn.execute(query).mappings()
    ]


def add(conn: Connection, kid: str, private_pem: str, *, retire_others: bool) -> None:
    now = time.time()
    if retire_others:
        conn.execute(update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now))
    conn.execute(signing_keys.insert().values(kid=kid, private_pem=private_pem, created_at=now))


def prune(conn: Connection, retired_before: float) -> int:
    """Delete keys retired long enough ago that no token they signed is still valid."""
    statement = delete(signing_keys).where(
        signing_keys.c.retired_at.is_not(None), signing_keys.c.retired_at < retired_before
    )
    return conn.execute(statement).rowcount
