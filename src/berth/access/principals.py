"""Resolving credentials to a principal, in ACR's order, with denials as values.

Basic usernames resolve as ACR does: the null GUID (password is an ACR refresh token) → a
repository-scoped token's name → the registry name (admin user) → a service principal's
application id → otherwise ``Application not registered with AAD.``. A wrong secret for a
token or service principal gets the same public answer as an unknown name, so an anonymous
caller cannot learn which names exist; the precise reason stays on the denial for the events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from berth import errors
from berth.access import permissions
from berth.access.model import Denial, Identity, IdentityKind
from berth.access.permissions import RegistryPermissions
from berth.access.scopes import SYSTEM_SCOPE_MAPS
from berth.access.secrets import SecretVerifier
from berth.access.tokens import TokenSubject
from berth.errors import WireError
from berth.metadata import identities as identity_rows
from berth.metadata import registry_access as access_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.tenancy import Tenancy

NULL_GUID = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NOT_REGISTERED = "Application not registered with AAD."
PERMISSIONS_FAILED = "retrieving permissions failed"
# Argon2 verifications a refusal costs, whether or not the name exists: tokens and the admin
# user have two passwords, a service principal usually one secret (docs/security.md, edge).
PASSWORD_SLOTS = 2
SECRET_SLOTS = 1


@dataclass(frozen=True)
class Principal:
    subject: TokenSubject
    permissions: RegistryPermissions
    # When the credential this principal presented expires (an ACR refresh token's ``exp``):
    # tokens issued for it expire no later, so a refresh token cannot renew itself forever.
    not_after: float | None = None
    # The identity's ``valid_after`` (disabled, re-enabled or reset at): tokens issued before it
    # are refused, so a reused (cached) token must have been issued at or after it.
    valid_after: float = 0.0

    @property
    def identity(self) -> Identity:
        return self.subject.identity


def unauthorized(reason: str, identity: Identity | None, detail: str, message: str | None = None) -> Denial:
    return Denial(reason, WireError(errors.UNAUTHORIZED, message), identity, detail)


def not_registered(reason: str, identity: Identity, detail: str) -> Denial:
    return unauthorized(reason, identity, detail, NOT_REGISTERED)


class PrincipalResolver:
    """Turns presented credentials into a :class:`Principal` or a :class:`Denial`."""

    def __init__(
        self, db: Database, tenancy: Tenancy, verifier: SecretVerifier, *, anonymous_catalog: bool = False
    ) -> None:
        self._db = db
        self._tenancy = tenancy
        self._verifier = verifier
        self._anonymous = permissions.ANONYMOUS_WITH_CATALOG if anonymous_catalog else permissions.ANONYMOUS

    def subject(self, identity: Identity, subject_id: str) -> TokenSubject:
        return TokenSubject(identity, subject_id, self._tenancy.tenant_id)

    async def from_password(
        self, registry: RegistryRecord, username: str, password: str
    ) -> Principal | Denial:
        """Basic credentials other than the null GUID (which the caller handles as a token).

        No transaction is opened first: the token and admin-password lookups each run as one
        statement (:mod:`berth.metadata.driver_query`), each as of the moment it runs.
        """
        return await self._db.read_plain(self._resolve_sync, registry, username, password)

    def _resolve_sync(
        self, conn: Connection, registry: RegistryRecord, username: str, password: str
    ) -> Principal | Denial:
        token = access_rows.get_token(conn, registry.id, username)
        if token is not None:
            return self._scoped_token(conn, registry, token, password)
        if username.lower() == registry.name.lower():
            return self._admin(conn, registry, password)
        if GUID.match(username):
            sp = identity_rows.by_app_id(conn, username)
            if sp is not None and sp.kind == identity_rows.SERVICE_PRINCIPAL:
                return self._service_principal(conn, registry, sp, password)
            self._verifier.spend(password, SECRET_SLOTS)
            return not_registered(
                "unknown_identity",
                Identity(IdentityKind.SERVICE_PRINCIPAL, username),
                f"no service principal has application id {username}",
            )
        self._verifier.spend(password, PASSWORD_SLOTS)
        return not_registered(
            "unknown_identity",
            Identity.presented(username),
            f"'{username}' is neither a token of registry {registry.name}, "
            "the registry name, nor an application id",
        )

    def _scoped_token(
        self, conn: Connection, registry: RegistryRecord, token: access_rows.TokenRecord, password: str
    ) -> Principal | Denial:
        identity = Identity(IdentityKind.TOKEN, token.name, token.id)
        stored = access_rows.token_passwords_of(conn, token.id)
        match = next((p for p in stored if self._verifier.verify(p.secret_hash, password)), None)
        if match is None:
            self._verifier.spend(password, PASSWORD_SLOTS - len(stored))
            return not_registered("bad_secret", identity, f"wrong password for token '{token.name}'")
        if not token.enabled:
            return unauthorized("identity_disabled", identity, f"token '{token.name}' is disabled")
        if match.expires_at is not None and match.expires_at <= time.time():
            expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(match.expires_at))
            return unauthorized(
                "secret_expired", identity, f"the {match.name} of token '{token.name}' expired on {expired}"
            )
        perms = self.token_permissions(conn, registry, token)
        return Principal(self.subject(identity, token.id), perms, valid_after=token.valid_after)

    def token_permissions(
        self, conn: Connection, registry: RegistryRecord, token: access_rows.TokenRecord
    ) -> RegistryPermissions:
        system = SYSTEM_SCOPE_MAPS.get(token.scope_map)
        if system is not None:
            return permissions.from_scope_map(system.actions)
        scope_map = access_rows.get_scope_map(conn, registry.id, token.scope_map)
        return permissions.from_scope_map(scope_map.actions) if scope_map else RegistryPermissions()

    def _admin(self, conn: Connection, registry: RegistryRecord, password: str) -> Principal | Denial:
        identity = Identity(IdentityKind.ADMIN, registry.name)
        if not registry.admin_enabled:
            self._verifier.spend(password, PASSWORD_SLOTS)
            return unauthorized(
                "admin_disabled", identity, f"the admin user of registry {registry.name} is disabled"
            )
        stored = access_rows.admin_passwords_of(conn, registry.id)
        if not any(self._verifier.verify(p.secret_hash, password) for p in stored):
            self._verifier.spend(password, PASSWORD_SLOTS - len(stored))
            return unauthorized(
                "bad_secret", identity, f"wrong password for the admin user of {registry.name}"
            )
        return Principal(self.subject(identity, registry.id), permissions.ADMIN)

    def _service_principal(
        self, conn: Connection, registry: RegistryRecord, sp: identity_rows.IdentityRecord, secret: str
    ) -> Principal | Denial:
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, sp.app_id or sp.id, sp.id)
        stored = identity_rows.secrets(conn, sp.id)
        match = next((s for s in stored if self._verifier.verify(s.secret_hash, secret)), None)
        if match is None:
            self._verifier.spend(secret, SECRET_SLOTS - len(stored))
            return not_registered(
                "bad_secret", identity, f"wrong client secret for service principal {sp.app_id}"
            )
        if match.expires_at <= time.time():
            expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(match.expires_at))
            return unauthorized(
                "secret_expired",
                identity,
                f"the client secret {match.hint}*** of service principal {sp.app_id} expired on {expired}",
            )
        return self.directory_principal(conn, registry, sp)

    def directory_principal(
        self, conn: Connection, registry: RegistryRecord, record: identity_rows.IdentityRecord
    ) -> Principal | Denial:
        """A user or service principal with the roles it holds on ``registry`` right now."""
        return self._with_roles(registry, record, lambda: assignment_rows.for_principal(conn, record.id))

    def _with_roles(
        self,
        registry: RegistryRecord,
        record: identity_rows.IdentityRecord,
        assignments_of: Callable[[], list[assignment_rows.RoleAssignmentRecord]],
    ) -> Principal | Denial:
        kind = IdentityKind.USER if record.kind == identity_rows.USER else IdentityKind.SERVICE_PRINCIPAL
        identity = Identity(kind, record.name, record.id)
        if not record.enabled:
            label = kind.value.replace("_", " ")
            return unauthorized("identity_disabled", identity, f"{label} {record.name} is disabled")
        assignments = assignments_of()
        resource_id = self._tenancy.registry_id(registry)
        if not permissions.has_role_on(assignments, resource_id):
            return Denial(
                "no_role",
                WireError(errors.DENIED, PERMISSIONS_FAILED),
                identity,
                f"{kind.value.replace('_', ' ')} {record.name} has no role on registry {registry.name}",
            )
        return Principal(
            self.subject(identity, record.id),
            permissions.from_roles(assignments, resource_id),
            valid_after=record.valid_after,
        )

    def anonymous(self, registry: RegistryRecord) -> Principal | Denial:
        identity = Identity(IdentityKind.ANONYMOUS, "")
        if not registry.anonymous_pull_enabled:
            return unauthorized(
                "anonymous_disabled", identity, f"anonymous pull is not enabled on registry {registry.name}"
            )
        return Principal(self.subject(identity, ""), self._anonymous)

    async def current(
        self, registry: RegistryRecord, subject: TokenSubject, issued_at: float
    ) -> Principal | Denial:
        """Re-check the identity behind an ACR token and return its permissions as of now.

        The admin user and anonymous pull are what ``registry`` (the registry record as
        :class:`~berth.registry.hosts.RegistryDirectory` has it now) says: no query. A user or
        service principal is one statement (identity and role assignments together), without a
        transaction around it; a scoped token reads its token and scope map in one transaction.
        """
        kind = subject.identity.kind
        if kind in (IdentityKind.ANONYMOUS, IdentityKind.ADMIN):
            return self._current_of_registry(registry, subject)
        if kind in (IdentityKind.USER, IdentityKind.SERVICE_PRINCIPAL):
            return await self._db.read_plain(self._current_sync, registry, subject, issued_at)
        return await self._db.read(self._current_sync, registry, subject, issued_at)

    def _current_of_registry(self, registry: RegistryRecord, subject: TokenSubject) -> Principal | Denial:
        identity = subject.identity
        if identity.kind is IdentityKind.ANONYMOUS:
            return self.anonymous(registry)
        if not registry.admin_enabled or subject.subject_id != registry.id:
            return unauthorized("admin_disabled", identity, f"the admin user of {registry.name} is disabled")
        return Principal(subject, permissions.ADMIN)

    def _current_sync(
        self, conn: Connection, registry: RegistryRecord, subject: TokenSubject, issued_at: float
    ) -> Principal | Denial:
        identity = subject.identity
        kind = identity.kind
        if kind in (IdentityKind.ANONYMOUS, IdentityKind.ADMIN):
            return self._current_of_registry(registry, subject)
        if kind is IdentityKind.TOKEN:
            token = access_rows.get_token_by_id(conn, subject.subject_id)
            if token is None or token.registry_id != registry.id:
                return unauthorized("unknown_identity", identity, f"token '{identity.name}' no longer exists")
            if not token.enabled or issued_at < token.valid_after:
                return unauthorized("identity_disabled", identity, f"token '{token.name}' is disabled")
            return Principal(
                subject, self.token_permissions(conn, registry, token), valid_after=token.valid_after
            )
        if kind in (IdentityKind.USER, IdentityKind.SERVICE_PRINCIPAL):
            found = assignment_rows.identity_with_assignments(conn, subject.subject_id)
            if found is None:
                return unauthorized("unknown_identity", identity, f"{identity.name} no longer exists")
            record, assignments = found
            if issued_at < record.valid_after:
                return unauthorized("identity_disabled", identity, f"{identity.name} was disabled or reset")
            return self._with_roles(registry, record, lambda: assignments)
        return unauthorized(
            "token_invalid", identity, "the token names an identity kind berth does not accept"
        )
