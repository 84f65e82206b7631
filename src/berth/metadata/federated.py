"""Rows of federated identity credentials: which external issuer's tokens, for which subject and
audiences, an identity accepts in place of a secret."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select
from sqlalchemy.engine import RowMapping

from berth.metadata.credentials_schema import federated_credentials as table


@dataclass(frozen=True)
class FederatedCredentialRecord:
    id: str
    identity_id: str
    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    description: str
    created_at: float


def _record(row: RowMapping) -> FederatedCredentialRecord:
    return FederatedCredentialRecord(
        id=row["id"],
        identity_id=row["identity_id"],
        name=row["name"],
        issuer=row["issuer"],
        subject=row["subject"],
        audiences=tuple(json.loads(row["audiences"])),
        description=row["description"],
        created_at=row["created_at"],
    )


def create(
    conn: Connection,
    identity_id: str,
    name: str,
    issuer: str,
    subject: str,
    audiences: tuple[str, ...],
    description: str = "",
) -> FederatedCredentialRecord:
    credential_id = str(uuid.uuid4())
    conn.execute(
        table.insert().values(
            id=credential_id,
            identity_id=identity_id,
            name=name,
            name_lower=name.lower(),
            issuer=issuer,
            subject=subject,
            audiences=json.dumps(list(audiences)),
            description=description,
            created_at=time.time(),
        )
    )
    found = get(conn, identity_id, credential_id)
    assert found is not None
    return found


def list_for(conn: Connection, identity_id: str) -> list[FederatedCredentialRecord]:
    query = select(table).where(table.c.identity_id == identity_id).order_by(table.c.created_at)
    return [_record(row) for row in conn.execute(query).mappings()]


def get(conn: Connection, identity_id: str, key: str) -> FederatedCredentialRecord | None:
    """A credential of the identity by id or (any-case) name."""
    query = select(table).where(
        table.c.identity_id == identity_id, (table.c.id == key) | (table.c.name_lower == key.lower())
    )
    row = conn.execute(query).mappings().first()
    return _record(row) if row else None


def remove(conn: Connection, identity_id: str, credential_id: str) -> bool:
    statement = delete(table).where(table.c.identity_id == identity_id, table.c.id == credential_id)
    return conn.execute(statement).rowcount > 0
