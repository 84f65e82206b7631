"""Rows of user-assigned managed identities and of the hosts allowed to use them."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select
from sqlalchemy.engine import RowMapping

from berth.metadata import identities as identity_rows
from berth.metadata.access_schema import identities
from berth.metadata.credentials_schema import identity_host_credentials as hosts
from berth.metadata.credentials_schema import managed_identities as table
from berth.metadata.identities import IdentityRecord

MANAGED_IDENTITY = "managed_identity"


@dataclass(frozen=True)
class ManagedIdentityRecord:
    identity: IdentityRecord
    resource_group: str
    name: str
    location: str
    tags: dict[str, str]

    @property
    def client_id(self) -> str:
        assert self.identity.app_id is not None
        return self.identity.app_id


@dataclass(frozen=True)
class HostCredentialRecord:
    id: str
    identity_id: str
    host: str
    secret_hash: str
    hint: str
    created_at: float


def _host(row: RowMapping) -> HostCredentialRecord:
    return HostCredentialRecord(
        row["id"], row["identity_id"], row["host"], row["secret_hash"], row["hint"], row["created_at"]
    )


def _managed(conn: Connection, row: RowMapping) -> ManagedIdentityRecord:
    identity = identity_rows.get(conn, row["identity_id"])
    assert identity is not None
    return ManagedIdentityRecord(
        identity, row["resource_group"], row["name"], row["location"], json.loads(row["tags"])
    )


def create(
    conn: Connection, resource_group: str, name: str, location: str, tags: dict[str, str]
) -> ManagedIdentityRecord:
    identity_id = str(uuid.uuid4())
    conn.execute(
        identities.insert().values(
            id=identity_id,
            kind=MANAGED_IDENTITY,
            display_name=name,
            app_id=str(uuid.uuid4()),
            created_at=time.time(),
        )
    )
    conn.execute(
        table.insert().values(
            identity_id=identity_id,
            resource_group=resource_group,
            resource_group_lower=resource_group.lower(),
            name=name,
            name_lower=name.lower(),
            location=location,
            tags=json.dumps(tags),
        )
    )
    found = get(conn, resource_group, name)
    assert found is not None
    return found


def update(conn: Connection, record: ManagedIdentityRecord, tags: dict[str, str]) -> ManagedIdentityRecord:
    conn.execute(
        table.update().where(table.c.identity_id == record.identity.id).values(tags=json.dumps(tags))
    )
    found = get(conn, record.resource_group, record.name)
    assert found is not None
    return found


def get(conn: Connection, resource_group: str, name: str) -> ManagedIdentityRecord | None:
    query = select(table).where(
        table.c.resource_group_lower == resource_group.lower(), table.c.name_lower == name.lower()
    )
    row = conn.execute(query).mappings().first()
    return _managed(conn, row) if row else None


def by_identity(conn: Connection, identity_id: str) -> ManagedIdentityRecord | None:
    row = conn.execute(select(table).where(table.c.identity_id == identity_id)).mappings().first()
    return _managed(conn, row) if row else None


def list_all(conn: Connection, resource_group: str | None = None) -> list[ManagedIdentityRecord]:
    query = select(table).order_by(table.c.resource_group_lower, table.c.name_lower)
    if resource_group is not None:
        query = query.where(table.c.resource_group_lower == resource_group.lower())
    return [_managed(conn, row) for row in conn.execute(query).mappings()]


def remove(conn: Connection, record: ManagedIdentityRecord) -> None:
    identity_rows.remove(conn, record.identity.id)  # cascades to the row above and host credentials


# --- hosts ----------------------------------------------------------------------------------


def add_host(
    conn: Connection, credential_id: str, identity_id: str, host: str, secret_hash: str, hint: str
) -> HostCredentialRecord:
    """A host credential (replacing the host's previous one for this identity)."""
    conn.execute(delete(hosts).where(hosts.c.identity_id == identity_id, hosts.c.host_lower == host.lower()))
    conn.execute(
        hosts.insert().values(
            id=credential_id,
            identity_id=identity_id,
            host=host,
            host_lower=host.lower(),
            secret_hash=secret_hash,
            hint=hint,
            created_at=time.time(),
        )
    )
    return HostCredentialRecord(credential_id, identity_id, host, secret_hash, hint, time.time())


def host_credential(conn: Connection, credential_id: str) -> HostCredentialRecord | None:
    row = conn.execute(select(hosts).where(hosts.c.id == credential_id)).mappings().first()
    return _host(row) if row else None


def hosts_of(conn: Connection, identity_id: str) -> list[HostCredentialRecord]:
    query = select(hosts).where(hosts.c.identity_id == identity_id).order_by(hosts.c.created_at)
    return [_host(row) for row in conn.execute(query).mappings()]


def remove_host(conn: Connection, identity_id: str, host: str) -> bool:
    statement = delete(hosts).where(hosts.c.identity_id == identity_id, hosts.c.host_lower == host.lower())
    return conn.execute(statement).rowcount > 0
