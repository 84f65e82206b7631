"""Secretless credentials of service principals, as Entra ID has them: federated identity
credentials (trust an external issuer's tokens for one subject) and certificates (public part
only). The rules are Entra's: names of 3-120 letters, digits, ``-`` and ``_``; at most 20
federated credentials per identity; issuer + subject unique; exactly one audience.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

from berth.directory.assertions import DEFAULT_AUDIENCE
from berth.directory.certificates import CertificateError, parse_certificate
from berth.directory.issuers import secure_url
from berth.management.errors import conflict, invalid, not_found
from berth.metadata import federated as federated_rows
from berth.metadata import key_credentials as key_rows
from berth.metadata.database import Database
from berth.metadata.federated import FederatedCredentialRecord
from berth.metadata.identities import IdentityRecord
from berth.metadata.key_credentials import KeyCredentialRecord

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
MAX_FEDERATED = 20
MAX_URL = 600


class CredentialAdmin:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- federated identity credentials -----------------------------------------------------

    async def federated(self, record: IdentityRecord) -> list[FederatedCredentialRecord]:
        return await self._db.read(federated_rows.list_for, record.id)

    async def get_federated(self, record: IdentityRecord, key: str) -> FederatedCredentialRecord:
        found = await self._db.read(federated_rows.get, record.id, key)
        if found is None:
            raise not_found("federated identity credential", key, f"application '{record.name}'")
        return found

    async def add_federated(
        self,
        record: IdentityRecord,
        name: str,
        issuer: str,
        subject: str,
        audiences: list[str] | None,
        description: str = "",
    ) -> FederatedCredentialRecord:
        if not NAME.match(name):
            raise invalid(
                f"'{name}' is not a valid name: 3 to 120 letters, digits, '-' and '_', starting with a "
                "letter or digit.",
                "name",
            )
        if len(issuer) > MAX_URL or not secure_url(issuer):
            raise invalid(
                f"The issuer '{issuer}' must be an https URL (http only on a loopback host).", "issuer"
            )
        if not subject or len(subject) > MAX_URL:
            raise invalid(f"The subject must have 1 to {MAX_URL} characters.", "subject")
        chosen = audiences or [DEFAULT_AUDIENCE]
        if len(chosen) != 1 or not chosen[0] or len(chosen[0]) > MAX_URL:
            raise invalid(
                "Exactly one audience is allowed (by default api://AzureADTokenExchange).", "audiences"
            )

        def work(conn: Connection) -> FederatedCredentialRecord:
            existing = federated_rows.list_for(conn, record.id)
            if any(c.name.lower() == name.lower() for c in existing):
                raise conflict(
                    "AlreadyExists", f"A federated identity credential named '{name}' already exists."
                )
            if any(c.issuer == issuer and c.subject == subject for c in existing):
                raise conflict(
                    "AlreadyExists",
                    f"A federated identity credential with issuer '{issuer}' and subject '{subject}' already "
                    "exists.",
                )
            if len(existing) >= MAX_FEDERATED:
                raise conflict(
                    "LimitExceeded", f"An application can have at most {MAX_FEDERATED} federated credentials."
                )
            return federated_rows.create(conn, record.id, name, issuer, subject, tuple(chosen), description)

        return await self._db.write(work)

    async def remove_federated(self, record: IdentityRecord, key: str) -> None:
        found = await self.get_federated(record, key)
        await self._db.write(federated_rows.remove, record.id, found.id)

    # --- certificates ---------------------------------------------------------------------

    async def certificates(self, record: IdentityRecord) -> list[KeyCredentialRecord]:
        return await self._db.read(key_rows.list_for, record.id)

    async def add_certificate(
        self, record: IdentityRecord, certificate: str, display_name: str, append: bool
    ) -> KeyCredentialRecord:
        """Register a public certificate; without ``append`` the others are removed (like az)."""
        try:
            parsed = parse_certificate(certificate)
        except CertificateError as exc:
            raise invalid(str(exc), "keyCredential.key") from None

        def work(conn: Connection) -> KeyCredentialRecord:
            if not append:
                key_rows.remove(conn, record.id)
            return key_rows.add(
                conn,
                record.id,
                display_name,
                parsed.thumbprint_sha1,
                parsed.thumbprint_sha256,
                parsed.pem,
                parsed.not_after,
            )

        return await self._db.write(work)

    async def remove_certificate(self, record: IdentityRecord, key_id: str) -> None:
        if not await self._db.write(key_rows.remove, record.id, key_id):
            raise not_found("key credential", key_id, f"service principal '{record.name}'")
