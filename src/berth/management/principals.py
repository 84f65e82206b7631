"""Users, service principals and role assignments, as ``az ad`` and ``az role`` manage them."""

from __future__ import annotations

import re
import time

from sqlalchemy import Connection

from berth.access.principals import GUID
from berth.access.roles import ROLES, RoleDefinition, find_role
from berth.access.secrets import Secret
from berth.directory.service import Directory, NewSecret
from berth.management.errors import conflict, invalid, not_found
from berth.metadata import identities as identity_rows
from berth.metadata import registries as registry_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.metadata.identities import IdentityRecord, SecretRecord
from berth.metadata.role_assignments import RoleAssignmentRecord
from berth.tenancy import PROVIDER, Tenancy

UPN = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,255}$")
# A scope of this service, lower-cased: the subscription, a resource group or a registry.
SCOPE = re.compile(
    rf"^/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+)"
    rf"(?:/providers/{PROVIDER.lower()}/registries/(?P<registry>[^/]+))?)?$"
)


class PrincipalAdmin:
    def __init__(self, db: Database, tenancy: Tenancy, directory: Directory) -> None:
        self._db = db
        self._tenancy = tenancy
        self._directory = directory

    # --- lookups --------------------------------------------------------------------------

    async def find(self, assignee: str) -> IdentityRecord:
        """A principal by object id, application id, UPN or (unique) display name."""

        def work(conn: Connection) -> IdentityRecord | None:
            if GUID.match(assignee):
                return identity_rows.get(conn, assignee.lower()) or identity_rows.by_app_id(conn, assignee)
            if "@" in assignee:
                return identity_rows.by_upn(conn, assignee)
            named = [i for i in identity_rows.list_all(conn) if i.display_name.lower() == assignee.lower()]
            if len(named) > 1:
                raise conflict(
                    "AmbiguousName", f"{len(named)} principals are called '{assignee}'; use the app id."
                )
            return named[0] if named else None

        record = await self._db.read(work)
        if record is None:
            raise not_found("principal", assignee)
        return record

    async def list_principals(self, kind: str | None = None) -> list[IdentityRecord]:
        return await self._db.read(identity_rows.list_all, kind)

    # --- users ----------------------------------------------------------------------------

    async def create_user(self, upn: str, display_name: str, password: Secret) -> IdentityRecord:
        if not UPN.match(upn):
            raise invalid(f"'{upn}' is not a user principal name like name@domain.", "userPrincipalName")
        if len(password.reveal()) < 8:
            raise invalid("the password must have at least 8 characters.", "passwordProfile")
        if await self._db.read(identity_rows.by_upn, upn) is not None:
            raise conflict("AlreadyExists", f"A user with the name {upn} already exists.")
        return await self._directory.create_user(upn, display_name or upn.split("@")[0], password)

    async def set_enabled(self, record: IdentityRecord, enabled: bool) -> IdentityRecord:
        await self._db.write(identity_rows.set_enabled, record.id, enabled)
        updated = await self._db.read(identity_rows.get, record.id)
        assert updated is not None
        return updated

    async def delete(self, record: IdentityRecord) -> None:
        await self._db.write(identity_rows.remove, record.id)

    # --- service principals ---------------------------------------------------------------

    async def create_service_principal(self, display_name: str) -> IdentityRecord:
        """A service principal without credentials (add them with :meth:`reset_secret`)."""
        if not display_name:
            raise invalid("a display name is required", "displayName")
        return await self._db.write(identity_rows.create_service_principal, display_name)

    async def reset_secret(
        self,
        record: IdentityRecord,
        years: float = 1,
        append: bool = False,
        end_date: float | None = None,
        display_name: str = "rbac",
    ) -> NewSecret:
        if record.kind != identity_rows.SERVICE_PRINCIPAL:
            raise invalid(f"{record.name} is a user, not a service principal", "id")
        if end_date is not None and end_date <= time.time():
            raise invalid("the end date must be in the future", "endDate")
        return await self._directory.reset_secret(
            record.id, years=years, append=append, expires_at=end_date, display_name=display_name
        )

    async def remove_secret(self, record: IdentityRecord, key_id: str) -> None:
        if not await self._db.write(identity_rows.remove_secrets, record.id, key_id):
            raise not_found("password credential", key_id, f"service principal '{record.name}'")

    async def secrets(self, record: IdentityRecord) -> list[SecretRecord]:
        return await self._db.read(identity_rows.secrets, record.id)

    # --- roles ----------------------------------------------------------------------------

    @staticmethod
    def role(name_or_id: str) -> RoleDefinition:
        definition = find_role(name_or_id)
        if definition is None:
            names = ", ".join(role.name for role in ROLES)
            raise invalid(f"Role '{name_or_id}' doesn't exist. Built-in roles: {names}.", "roleDefinitionId")
        return definition

    async def check_scope(self, scope: str) -> str:
        """A valid scope of this service (subscription, resource group or existing registry)."""
        found = SCOPE.match(scope.rstrip("/").lower())
        if found is None or found["sub"] != self._tenancy.subscription_id.lower():
            raise invalid(
                f"Scope '{scope}' is not valid here: use {self._tenancy.subscription_scope}, "
                "a resource group under it, or a registry's resource id (berth acr show --query id).",
                "scope",
            )
        if found["registry"]:
            record = await self._db.read(registry_rows.get_by_name, found["registry"])
            if record is None or record.resource_group.lower() != found["rg"]:
                raise not_found("Microsoft.ContainerRegistry/registries", found["registry"])
            return self._tenancy.registry_id(record)
        return scope.rstrip("/")

    async def assign(
        self, principal: IdentityRecord, role: RoleDefinition, scope: str, assignment_id: str | None = None
    ) -> RoleAssignmentRecord:
        """Give ``principal`` ``role`` at ``scope`` (checked with :meth:`check_scope`)."""
        checked = await self.check_scope(scope)
        return await self._db.write(assignment_rows.create, principal.id, role.id, checked, assignment_id)

    async def assignments(self) -> list[RoleAssignmentRecord]:
        """Every role assignment, oldest first."""
        return await self._db.read(assignment_rows.list_all)

    async def assignments_of(self, principal: IdentityRecord) -> list[RoleAssignmentRecord]:
        return await self._db.read(assignment_rows.for_principal, principal.id)

    async def unassign(self, assignment_id: str) -> None:
        if not await self._db.write(assignment_rows.remove, assignment_id):
            raise not_found("role assignment", assignment_id)

    async def get_assignment(self, assignment_id: str) -> RoleAssignmentRecord:
        record = await self._db.read(assignment_rows.get, assignment_id)
        if record is None:
            raise not_found("role assignment", assignment_id)
        return record
