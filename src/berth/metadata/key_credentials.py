"""Rows of certificate credentials: the public certificates an identity signs assertions with."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select
from sqlalchemy.engine import RowMapping

from berth.metadata.credentials_schema import key_credentials as table


@dataclass(frozen=True)
class KeyCredentialRecord:
    id: str
    identity_id: str
    display_name: str
    thumbprint_sha1: str  # hex, upper case
    thumbprint_sha256: str  # base64url
    certificate_pem: str
    created_at: float
    expires_at: float


def _record(row: RowMapping) -> KeyCredentialRecord:
    return KeyCredentialRecord(
        id=row["id"],
        identity_id=row["identity_id"],
        display_name=row["display_name"],
        thumbprint_sha1=row["thumbprint_sha1"],
        thumbprint_sha256=row["thumbprint_sha256"],
        certificate_pem=row["certificate_pem"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def add(
    conn: Connection,
    identity_id: str,
    display_name: str,
    thumbprint_sha1: str,
    thumbprint_sha256: str,
    certificate_pem: str,
    expires_at: float,
) -> KeyCredentialRecord:
    key_id = str(uuid.uuid4())
    now = time.time()
    conn.execute(
        table.insert().values(
            id=key_id,
            identity_id=identity_id,
            display_name=display_name,
            thumbprint_sha1=thumbprint_sha1,
            thumbprint_sha256=thumbprint_sha256,
            certificate_pem=certificate_pem,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return KeyCredentialRecord(
        key_id,
        identity_id,
        display_name,
        thumbprint_sha1,
        thumbprint_sha256,
        certificate_pem,
        now,
        expires_at,
    )


def list_for(conn: Connection, identity_id: str) -> list[KeyCredentialRecord]:
    query = select(table).where(table.c.identity_id == identity_id).order_by(table.c.created_at)
    return [_record(row) for row in conn.execute(query).mappings()]


def remove(conn: Connection, identity_id: str, key_id: str | None = None) -> int:
    statement = delete(table).where(table.c.identity_id == identity_id)
    if key_id is not None:
        statement = statement.where(table.c.id == key_id)
    return conn.execute(statement).rowcount
