"""User-assigned managed identities (``Microsoft.ManagedIdentity/userAssignedIdentities``) and
the hosts that may use them.

An identity is a directory principal (kind ``managed_identity``; its client id is its app id):
role assignments name it like any principal. It has no secret of its own; a host proves it may
use it with a host credential — a secret issued once per (identity, host) by someone who may
change the identity, sent by the host as ``IDENTITY_HEADER`` to ``/msi/token``. Deleting a host
credential, or the identity, ends that host's access at its next token request.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Connection

from berth.access.secrets import Secret, generate, hash_secret, hint
from berth.management.errors import invalid, not_found
from berth.metadata import managed_identities as managed_rows
from berth.metadata.database import Database
from berth.metadata.managed_identities import HostCredentialRecord, ManagedIdentityRecord

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ManagedIdentityAdmin:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self, resource_group: str, name: str, location: str, tags: dict[str, str]
    ) -> tuple[ManagedIdentityRecord, bool]:
        """Create the identity, or update the tags of an existing one; (record, created)."""
        if not NAME.match(name):
            raise invalid(
                f"'{name}' is not a valid identity name: 3 to 128 letters, digits, '-' and '_'.",
                "resourceName",
            )

        def work(conn: Connection) -> tuple[ManagedIdentityRecord, bool]:
            existing = managed_rows.get(conn, resource_group, name)
            if existing is not None:
                return managed_rows.update(conn, existing, tags), False
            return managed_rows.create(conn, resource_group, name, location, tags), True

        return await self._db.write(work)

    async def get(self, resource_group: str, name: str) -> ManagedIdentityRecord:
        found = await self._db.read(managed_rows.get, resource_group, name)
        if found is None:
            raise not_found(
                "Microsoft.ManagedIdentity/userAssignedIdentities", name, f"resource group '{resource_group}'"
            )
        return found

    async def list_identities(self, resource_group: str | None = None) -> list[ManagedIdentityRecord]:
        return await self._db.read(managed_rows.list_all, resource_group)

    async def delete(self, record: ManagedIdentityRecord) -> None:
        await self._db.write(managed_rows.remove, record)

    # --- hosts ------------------------------------------------------------------------------

    async def hosts(self, record: ManagedIdentityRecord) -> list[HostCredentialRecord]:
        return await self._db.read(managed_rows.hosts_of, record.identity.id)

    async def add_host(self, record: ManagedIdentityRecord, host: str) -> tuple[HostCredentialRecord, Secret]:
        """A new secret for ``host`` (replacing its previous one); shown once, to the caller."""
        if not HOST.match(host):
            raise invalid(f"'{host}' is not a valid host name (letters, digits, '.', '-', '_').", "host")
        random = generate()
        credential_id = str(uuid.uuid4())
        secret = Secret(f"{credential_id}.{random.reveal()}")
        digest = hash_secret(secret)
        stored = await self._db.write(
            managed_rows.add_host, credential_id, record.identity.id, host, digest, hint(random)
        )
        return stored, secret

    async def remove_host(self, record: ManagedIdentityRecord, host: str) -> None:
        if not await self._db.write(managed_rows.remove_host, record.identity.id, host):
            raise not_found("host credential", host, f"identity '{record.name}'")
