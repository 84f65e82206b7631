"""Repository-scoped tokens and their scope maps, per registry.

Token passwords are generated here and returned once; only their argon2 hashes are kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from berth.access.scopes import (
    SYSTEM_SCOPE_MAPS,
    InvalidScopeMapAction,
    SystemScopeMap,
    parse_scope_map_action,
)
from berth.access.secrets import Secret, generate, hash_secret
from berth.management.errors import ManagementError, conflict, invalid, not_found
from berth.metadata import registry_access as access_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.metadata.registry_access import ScopeMapRecord, StoredPassword, TokenRecord

NAME = re.compile(r"^[A-Za-z0-9-]{5,50}$")
PASSWORD_NAMES = ("password1", "password2")


@dataclass(frozen=True)
class ScopeMapView:
    name: str
    description: str
    actions: tuple[str, ...]
    system: bool
    created_at: float | None


@dataclass(frozen=True)
class TokenView:
    token: TokenRecord
    passwords: tuple[StoredPassword, ...]


@dataclass(frozen=True)
class GeneratedPassword:
    name: str
    value: Secret
    created_at: float
    expires_at: float | None


def check_name(kind: str, name: str) -> str:
    if not NAME.match(name):
        raise invalid(
            f"{kind} name '{name}' is invalid: use 5 to 50 letters, digits and hyphens.",
            f"{kind.replace(' ', '')}Name",
        )
    return name


def check_actions(actions: Sequence[str]) -> list[str]:
    checked = []
    for action in actions:
        try:
            parse_scope_map_action(action)
        except InvalidScopeMapAction as exc:
            raise invalid(str(exc), "actions") from None
        checked.append(action.strip().lower())
    if not checked:
        raise invalid("a scope map needs at least one action", "actions")
    if len(checked) > 500:
        raise invalid("a scope map may hold at most 500 actions", "actions")
    return list(dict.fromkeys(checked))


def _system_view(system: SystemScopeMap) -> ScopeMapView:
    return ScopeMapView(system.name, system.description, system.actions, True, None)


def _user_view(record: ScopeMapRecord) -> ScopeMapView:
    return ScopeMapView(record.name, record.description, record.actions, False, record.created_at)


def _token_view(conn: Connection, token: TokenRecord) -> TokenView:
    return TokenView(token, tuple(access_rows.token_passwords_of(conn, token.id)))


class ScopedAccessAdmin:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- scope maps -----------------------------------------------------------------------

    async def list_scope_maps(self, registry: RegistryRecord) -> list[ScopeMapView]:
        stored = await self._db.read(access_rows.list_scope_maps, registry.id)
        return [_system_view(m) for m in SYSTEM_SCOPE_MAPS.values()] + [_user_view(m) for m in stored]

    async def get_scope_map(self, registry: RegistryRecord, name: str) -> ScopeMapView:
        system = SYSTEM_SCOPE_MAPS.get(name)
        if system is not None:
            return _system_view(system)
        record = await self._db.read(access_rows.get_scope_map, registry.id, name)
        if record is None:
            raise not_found("scope map", name, f"registry '{registry.name}'")
        return _user_view(record)

    async def put_scope_map(
        self, registry: RegistryRecord, name: str, actions: Sequence[str], description: str = ""
    ) -> ScopeMapView:
        if name in SYSTEM_SCOPE_MAPS or name.startswith("_"):
            raise ManagementError(
                "SystemScopeMapReadOnly", f"'{name}' is a system scope map and cannot change.", 409
            )
        check_name("scope map", name)
        record = await self._db.write(
            access_rows.put_scope_map, registry.id, name, check_actions(actions), description
        )
        return _user_view(record)

    async def delete_scope_map(self, registry: RegistryRecord, name: str) -> None:
        if name in SYSTEM_SCOPE_MAPS:
            raise ManagementError(
                "SystemScopeMapReadOnly", f"'{name}' is a system scope map and cannot be deleted.", 409
            )

        def work(conn: Connection) -> None:
            users = access_rows.tokens_using_scope_map(conn, registry.id, name)
            if users:
                raise conflict(
                    "ScopeMapInUse",
                    f"Scope map '{name}' is used by token(s) {', '.join(t.name for t in users)}; "
                    "delete or update those tokens first.",
                )
            if not access_rows.remove_scope_map(conn, registry.id, name):
                raise not_found("scope map", name, f"registry '{registry.name}'")

        await self._db.write(work)

    # --- tokens ---------------------------------------------------------------------------

    async def list_tokens(self, registry: RegistryRecord) -> list[TokenView]:
        def work(conn: Connection) -> list[TokenView]:
            return [_token_view(conn, t) for t in access_rows.list_tokens(conn, registry.id)]

        return await self._db.read(work)

    async def get_token(self, registry: RegistryRecord, name: str) -> TokenView:
        def work(conn: Connection) -> TokenView | None:
            token = access_rows.get_token(conn, registry.id, name)
            return _token_view(conn, token) if token else None

        view = await self._db.read(work)
        if view is None:
            raise not_found("token", name, f"registry '{registry.name}'")
        return view

    async def put_token(
        self, registry: RegistryRecord, name: str, scope_map: str, enabled: bool = True
    ) -> TokenView:
        """Create a token, or change the scope map and status of an existing one."""
        check_name("token", name)
        await self.get_scope_map(registry, scope_map)  # must exist

        def work(conn: Connection) -> TokenView:
            token = access_rows.get_token(conn, registry.id, name)
            if token is None:
                token = access_rows.create_token(conn, registry.id, name, scope_map, enabled)
            else:
                access_rows.update_token(conn, token.id, scope_map=scope_map, enabled=enabled)
                token = access_rows.get_token_by_id(conn, token.id)
                assert token is not None
            return _token_view(conn, token)

        return await self._db.write(work)

    async def delete_token(self, registry: RegistryRecord, name: str) -> None:
        token = (await self.get_token(registry, name)).token
        await self._db.write(access_rows.remove_token, token.id)

    async def generate_password(
        self, token: TokenRecord, password_name: str, expires_at: float | None
    ) -> GeneratedPassword:
        if password_name not in PASSWORD_NAMES:
            raise invalid(f"name must be password1 or password2, not '{password_name}'.", "name")
        if expires_at is not None and expires_at <= time.time():
            raise invalid("the expiry must be in the future.", "expiry")
        secret = generate()
        stored = await self._db.write(
            access_rows.set_token_password, token.id, password_name, hash_secret(secret), expires_at
        )
        return GeneratedPassword(password_name, secret, stored.created_at, expires_at)

    async def keep_passwords(self, view: TokenView, keep: Collection[str]) -> TokenView:
        """Remove the token's passwords that ``keep`` does not name; the token as it is then."""
        token = view.token

        def work(conn: Connection) -> TokenView:
            for password in view.passwords:
                if password.name not in keep:
                    access_rows.remove_token_password(conn, token.id, password.name)
            return _token_view(conn, token)

        return await self._db.write(work)

    async def delete_password(
        self, registry: RegistryRecord, token_name: str, password_name: str
    ) -> TokenView:
        """Remove one of a token's passwords; the token as it is then."""
        token = (await self.get_token(registry, token_name)).token

        def work(conn: Connection) -> TokenView:
            if not access_rows.remove_token_password(conn, token.id, password_name):
                raise not_found("password", password_name, f"token '{token_name}'")
            return _token_view(conn, token)

        return await self._db.write(work)
