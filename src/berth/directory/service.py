"""The directory's rules: who may sign in, with what, and what happens when they do.

Sign-in answers follow Entra ID's error codes (``AADSTS...``) so tools that know them behave;
an unknown name and a wrong secret get the same answer, so callers cannot probe for names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from berth.access.model import Identity, IdentityKind
from berth.access.principals import GUID, SECRET_SLOTS
from berth.access.secrets import Secret, SecretVerifier, generate, hash_secret, hint
from berth.metadata import identities as identity_rows
from berth.metadata.database import Database
from berth.metadata.identities import IdentityRecord, SecretRecord

DEFAULT_SECRET_YEARS = 1


@dataclass(frozen=True)
class SignInFailure:
    """A refused sign-in: the OAuth error for the client, the machine reason for the events."""

    error: str  # OAuth2 error: invalid_client, invalid_grant, ...
    code: int  # AADSTS number
    description: str
    reason: str
    identity: Identity
    detail: str
    status: int = 400


@dataclass(frozen=True)
class NewSecret:
    record: SecretRecord
    secret: Secret


def _invalid_client(identity: Identity, reason: str, detail: str) -> SignInFailure:
    return SignInFailure(
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
        "value, not the client secret ID, for a secret added to the app.",
        reason,
        identity,
        detail,
        status=401,
    )


def _invalid_user(identity: Identity, reason: str, detail: str) -> SignInFailure:
    return SignInFailure(
        "invalid_grant",
        50126,
        "Error validating credentials due to invalid username or password.",
        reason,
        identity,
        detail,
    )


class Directory:
    def __init__(self, db: Database, verifier: SecretVerifier) -> None:
        self._db = db
        self._verifier = verifier

    # --- sign-in --------------------------------------------------------------------------

    async def sign_in_client(self, client_id: str, client_secret: str) -> IdentityRecord | SignInFailure:
        return await self._db.read(self._sign_in_client, client_id, client_secret)

    def _sign_in_client(
        self, conn: Connection, client_id: str, client_secret: str
    ) -> IdentityRecord | SignInFailure:
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, client_id)
        record = identity_rows.by_app_id(conn, client_id) if GUID.match(client_id) else None
        if record is None or record.kind != identity_rows.SERVICE_PRINCIPAL:
            self._verifier.spend(client_secret, SECRET_SLOTS)
            return _invalid_client(
                identity, "unknown_identity", f"no service principal has application id {client_id}"
            )
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, client_id, record.id)
        secrets = identity_rows.secrets(conn, record.id)
        match = next((s for s in secrets if self._verifier.verify(s.secret_hash, client_secret)), None)
        if match is None:
            self._verifier.spend(client_secret, SECRET_SLOTS - len(secrets))
            return _invalid_client(
                identity, "bad_secret", f"wrong client secret for service principal {client_id}"
            )
        if match.expires_at <= time.time():
            expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(match.expires_at))
            return SignInFailure(
                "invalid_client",
                7000222,
                f"The provided client secret keys for app '{client_id}' are expired. Create new keys for "
                f"your app, or consider using certificate credentials for added security.",
                "secret_expired",
                identity,
                f"the client secret {match.hint}*** of service principal {client_id} expired on {expired}",
                status=401,
            )
        if not record.enabled:
            return SignInFailure(
                "unauthorized_client",
                7000112,
                f"Application '{client_id}' is disabled.",
                "identity_disabled",
                identity,
                f"service principal {client_id} is disabled",
            )
        return record

    async def sign_in_user(self, upn: str, password: str) -> IdentityRecord | SignInFailure:
        return await self._db.read(self._sign_in_user, upn, password)

    def _sign_in_user(self, conn: Connection, upn: str, password: str) -> IdentityRecord | SignInFailure:
        identity = Identity(IdentityKind.USER, upn)
        record = identity_rows.by_upn(conn, upn)
        if record is None or record.password_hash is None:
            self._verifier.spend(password, 1)
            return _invalid_user(identity, "unknown_identity", f"no user has the name {upn}")
        identity = Identity(IdentityKind.USER, record.name, record.id)
        if not self._verifier.verify(record.password_hash, password):
            return _invalid_user(identity, "bad_secret", f"wrong password for user {record.name}")
        if not record.enabled:
            return SignInFailure(
                "invalid_grant",
                50057,
                "The user account is disabled.",
                "identity_disabled",
                identity,
                f"user {record.name} is disabled",
            )
        return record

    async def still_valid(self, object_id: str, issued_at: float) -> IdentityRecord | SignInFailure:
        """For a refresh: the identity behind a token, unless it was deleted, disabled or reset."""
        record = await self._db.read(identity_rows.get, object_id)
        identity = Identity(IdentityKind.UNKNOWN, object_id)
        if record is None:
            return SignInFailure(
                "invalid_grant",
                700082,
                "The refresh token has expired or was revoked.",
                "unknown_identity",
                identity,
                f"identity {object_id} no longer exists",
            )
        if not record.enabled or issued_at < record.valid_after:
            kind = IdentityKind.USER if record.kind == identity_rows.USER else IdentityKind.SERVICE_PRINCIPAL
            return SignInFailure(
                "invalid_grant",
                50057,
                "The user account is disabled.",
                "identity_disabled",
                Identity(kind, record.name, record.id),
                f"{record.name} was disabled or its password was reset",
            )
        return record

    # --- administration -------------------------------------------------------------------

    async def create_user(self, upn: str, display_name: str, password: Secret) -> IdentityRecord:
        return await self._db.write(identity_rows.create_user, upn, display_name, hash_secret(password))

    async def create_service_principal(
        self, display_name: str, years: float = DEFAULT_SECRET_YEARS
    ) -> tuple[IdentityRecord, NewSecret]:
        secret = generate()
        digest = hash_secret(secret)

        def work(conn: Connection) -> tuple[IdentityRecord, SecretRecord]:
            record = identity_rows.create_service_principal(conn, display_name)
            stored = identity_rows.add_secret(
                conn, record.id, digest, hint(secret), time.time() + years * 365.25 * 86400, "rbac"
            )
            return record, stored

        record, stored = await self._db.write(work)
        return record, NewSecret(stored, secret)

    async def reset_secret(
        self,
        identity_id: str,
        *,
        years: float = DEFAULT_SECRET_YEARS,
        append: bool = False,
        expires_at: float | None = None,
        display_name: str = "rbac",
    ) -> NewSecret:
        """A new client secret; without ``append`` the old secrets are removed (like az)."""
        secret = generate()
        digest = hash_secret(secret)
        expiry = expires_at if expires_at is not None else time.time() + years * 365.25 * 86400

        def work(conn: Connection) -> SecretRecord:
            if not append:
                identity_rows.remove_secrets(conn, identity_id)
            return identity_rows.add_secret(conn, identity_id, digest, hint(secret), expiry, display_name)

        return NewSecret(await self._db.write(work), secret)
