"""Re-checking the identity behind an ACR token: which kinds need the database."""

from __future__ import annotations

import asyncio
from typing import Any

from berth.access import permissions
from berth.access.model import Denial, Identity, IdentityKind
from berth.access.principals import Principal, PrincipalResolver
from berth.access.secrets import SecretVerifier
from berth.access.tokens import TokenSubject
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.tenancy import Tenancy


class NoDatabase:
    """The admin user and anonymous pull are properties of the registry record: no query."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the database was used ({name})")


def _resolver() -> PrincipalResolver:
    db: Any = NoDatabase()
    database: Database = db
    return PrincipalResolver(database, Tenancy("tenant", "subscription"), SecretVerifier())


def _registry(*, admin: bool = False, anonymous: bool = False) -> RegistryRecord:
    return RegistryRecord(
        "reg-id",
        "reg",
        "default",
        "local",
        "Premium",
        0.0,
        admin_enabled=admin,
        anonymous_pull_enabled=anonymous,
    )


def _current(registry: RegistryRecord, subject: TokenSubject) -> Principal | Denial:
    return asyncio.run(_resolver().current(registry, subject, 0.0))


def test_the_admin_user_as_the_registry_says_now() -> None:
    admin = TokenSubject(Identity(IdentityKind.ADMIN, "reg"), "reg-id", "tenant")

    allowed = _current(_registry(admin=True), admin)
    disabled = _current(_registry(admin=False), admin)
    other_registry = _current(_registry(admin=True), TokenSubject(admin.identity, "other-id", "tenant"))

    assert isinstance(allowed, Principal)
    assert allowed.permissions == permissions.ADMIN
    assert isinstance(disabled, Denial)
    assert disabled.reason == "admin_disabled"
    assert isinstance(other_registry, Denial)
    assert other_registry.reason == "admin_disabled"


def test_anonymous_pull_as_the_registry_says_now() -> None:
    anonymous = TokenSubject(Identity(IdentityKind.ANONYMOUS, ""), "", "tenant")

    allowed = _current(_registry(anonymous=True), anonymous)
    turned_off = _current(_registry(anonymous=False), anonymous)

    assert isinstance(allowed, Principal)
    assert allowed.permissions == permissions.ANONYMOUS
    assert isinstance(turned_off, Denial)
    assert turned_off.reason == "anonymous_disabled"
