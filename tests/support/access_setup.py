"""Setting up identities, roles and registry access for tests, through berth's Python layers.

There is no management API or CLI for users, service principals, roles, tokens or registry
properties yet, so suites arrange that state here — in one place, so the management CLI can
replace these helpers later without touching the tests that use them.

An :class:`AccessSetup` works on a metadata database: the one of an in-process app
(:meth:`AccessSetup.for_app`, which also drops the app's short-lived caches after a change), or
the one of a ``berth serve`` process (:meth:`AccessSetup.for_database`; that server notices
registry-property changes within :data:`berth.registry.hosts.CACHE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from berth.access.roles import find_role
from berth.access.secrets import Secret, SecretVerifier, generate, hash_secret
from berth.app import BerthApp
from berth.directory.service import Directory
from berth.metadata import identities as identity_rows
from berth.metadata import registries as registry_rows
from berth.metadata import registry_access as access_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.metadata.registries import IpRule, RegistryRecord
from berth.tenancy import Tenancy

NULL_GUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class ServicePrincipal:
    object_id: str
    app_id: str
    secret: str
    secret_id: str
    tenant_id: str


@dataclass(frozen=True)
class User:
    object_id: str
    upn: str
    password: str


@dataclass(frozen=True)
class ScopedToken:
    id: str
    name: str
    password1: str
    password2: str


class AccessSetup:
    def __init__(self, db: Database, tenancy: Tenancy, on_change: Callable[[], None] | None = None) -> None:
        self.db = db
        self.tenancy = tenancy
        self._on_change = on_change or (lambda: None)
        self._directory = Directory(db, SecretVerifier())

    @classmethod
    def for_app(cls, app: BerthApp) -> AccessSetup:
        services = app.services
        return cls(services.db, services.tenancy, services.registries.invalidate)

    @classmethod
    def for_database(cls, database_url: str, default_registry: str = "default") -> AccessSetup:
        """A database a ``berth serve`` process uses (or will use): schema, tenant, default registry."""
        db = Database(database_url, pool_size=2)
        db.create_schema()
        db.write_sync(registry_rows.ensure, default_registry)
        return cls(db, Tenancy.load(db))

    def close(self) -> None:
        self.db.dispose()

    @property
    def tenant_id(self) -> str:
        return self.tenancy.tenant_id

    # --- registries -----------------------------------------------------------------------

    def registry(self, name: str = "default") -> RegistryRecord:
        record = self.db.read_sync(registry_rows.get_by_name, name)
        assert record is not None, f"no registry {name}"
        return record

    def create_registry(self, name: str) -> RegistryRecord:
        record = self.db.write_sync(registry_rows.create, name)
        self._on_change()
        return record

    def registry_id(self, registry: RegistryRecord | str = "default") -> str:
        """The ARM resource id of a registry: the scope for role assignments on it."""
        record = self.registry(registry) if isinstance(registry, str) else registry
        return self.tenancy.registry_id(record)

    def update_registry(
        self, registry: RegistryRecord | str = "default", **properties: object
    ) -> RegistryRecord:
        record = self.registry(registry) if isinstance(registry, str) else registry
        updated = self.db.write_sync(registry_rows.update_properties, record.id, **properties)
        assert updated is not None
        self._on_change()
        return updated

    def set_anonymous_pull(self, enabled: bool, registry: RegistryRecord | str = "default") -> None:
        self.update_registry(registry, anonymous_pull_enabled=enabled)

    def set_network_rules(
        self,
        registry: RegistryRecord | str = "default",
        *,
        public: bool = True,
        default_action: str = "Allow",
        allow: tuple[str, ...] = (),
    ) -> None:
        self.update_registry(
            registry,
            public_network_enabled=public,
            network_default_action=default_action,
            ip_rules=tuple(IpRule(value) for value in allow),
        )

    def enable_admin(self, registry: RegistryRecord | str = "default") -> tuple[str, str]:
        """Turn the admin user on with two fresh passwords; returns (password, password2)."""
        record = self.registry(registry) if isinstance(registry, str) else registry
        password, password2 = generate(), generate()
        self.db.write_sync(access_rows.set_admin_password, record.id, "password", hash_secret(password))
        self.db.write_sync(access_rows.set_admin_password, record.id, "password2", hash_secret(password2))
        self.update_registry(record, admin_enabled=True)
        return password.reveal(), password2.reveal()

    def disable_admin(self, registry: RegistryRecord | str = "default") -> None:
        self.update_registry(registry, admin_enabled=False)

    # --- directory identities --------------------------------------------------------------

    def service_principal(
        self,
        display_name: str = "ci-sp",
        *,
        role: str | None = "AcrPull",
        registry: RegistryRecord | str = "default",
        scope: str | None = None,
    ) -> ServicePrincipal:
        """A service principal with one secret, holding ``role`` on the registry (or ``scope``)."""
        record, new = asyncio.run(self._directory.create_service_principal(display_name))
        assert record.app_id is not None
        if role is not None:
            self.assign(record.id, role, scope or self.registry_id(registry))
        return ServicePrincipal(record.id, record.app_id, new.secret.reveal(), new.record.id, self.tenant_id)

    def add_secret(self, sp: ServicePrincipal, *, expires_at: float | None = None) -> ServicePrincipal:
        """Another secret for ``sp`` (the old ones stay); returns ``sp`` with the new secret."""
        new = asyncio.run(self._directory.reset_secret(sp.object_id, append=True, expires_at=expires_at))
        return ServicePrincipal(sp.object_id, sp.app_id, new.secret.reveal(), new.record.id, sp.tenant_id)

    def expire_secret(self, sp: ServicePrincipal, seconds_ago: float = 60.0) -> None:
        self.db.write_sync(identity_rows.set_secret_expiry, sp.secret_id, time.time() - seconds_ago)

    def user(
        self,
        upn: str,
        *,
        password: str | None = None,
        role: str | None = "AcrPull",
        registry: RegistryRecord | str = "default",
    ) -> User:
        secret = Secret(password) if password else generate()
        record = asyncio.run(self._directory.create_user(upn, upn.split("@")[0], secret))
        if role is not None:
            self.assign(record.id, role, self.registry_id(registry))
        return User(record.id, upn, secret.reveal())

    def set_enabled(self, object_id: str, enabled: bool) -> None:
        self.db.write_sync(identity_rows.set_enabled, object_id, enabled)

    def delete_identity(self, object_id: str) -> None:
        self.db.write_sync(identity_rows.remove, object_id)

    def assign(self, principal_id: str, role: str, scope: str) -> str:
        """Assign a built-in role by name at an ARM scope; returns the assignment id."""
        definition = find_role(role)
        assert definition is not None, f"no role {role}"
        return self.db.write_sync(assignment_rows.create, principal_id, definition.id, scope).id

    def unassign(self, assignment_id: str) -> None:
        self.db.write_sync(assignment_rows.remove, assignment_id)

    # --- repository-scoped tokens ----------------------------------------------------------

    def scope_map(self, name: str, actions: list[str], registry: RegistryRecord | str = "default") -> None:
        record = self.registry(registry) if isinstance(registry, str) else registry
        self.db.write_sync(access_rows.put_scope_map, record.id, name, actions)

    def token(
        self,
        name: str,
        scope_map: str,
        *,
        registry: RegistryRecord | str = "default",
        expires_at: float | None = None,
        enabled: bool = True,
    ) -> ScopedToken:
        """A token using ``scope_map`` (a system map like ``_repositories_pull`` or a user map)."""
        record = self.registry(registry) if isinstance(registry, str) else registry
        token = self.db.write_sync(access_rows.create_token, record.id, name, scope_map, enabled)
        passwords = []
        for password_name in ("password1", "password2"):
            secret = generate()
            self.db.write_sync(
                access_rows.set_token_password, token.id, password_name, hash_secret(secret), expires_at
            )
            passwords.append(secret.reveal())
        return ScopedToken(token.id, name, passwords[0], passwords[1])

    def set_token_password_expiry(self, token: ScopedToken, name: str, expires_at: float | None) -> None:
        stored = {p.name: p for p in self.db.read_sync(access_rows.token_passwords_of, token.id)}
        self.db.write_sync(
            access_rows.set_token_password, token.id, name, stored[name].secret_hash, expires_at
        )

    def delete_token(self, token: ScopedToken) -> None:
        self.db.write_sync(access_rows.remove_token, token.id)

    def set_token_enabled(self, token: ScopedToken, enabled: bool) -> None:
        self.db.write_sync(access_rows.update_token, token.id, enabled=enabled)
