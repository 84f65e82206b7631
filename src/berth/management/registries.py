"""Registries as resources: create, read, update, delete, name checks, network rules, admin user."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection

from berth.access.secrets import Secret, generate, hash_secret
from berth.config import Settings
from berth.content.quota import StorageQuota, registry_setting
from berth.management.errors import ManagementError, conflict, invalid, not_found
from berth.metadata import registries as registry_rows
from berth.metadata import registry_access as access_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.metadata.registries import IpRule, RegistryRecord
from berth.names import REGISTRY_NAME
from berth.registry.hosts import RegistryDirectory
from berth.storage import StorageDriver
from berth.tenancy import Tenancy

RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
ADMIN_PASSWORD_NAMES = ("password", "password2")
MAX_IP_RULES = 200
UPDATABLE = (
    "admin_enabled",
    "anonymous_pull_enabled",
    "public_network_enabled",
    "network_default_action",
    "tags",
    "storage_quota",
)


@dataclass(frozen=True)
class RevealedPassword:
    name: str
    value: Secret | None  # None when it was revealed before and is only stored hashed


@dataclass(frozen=True)
class AdminCredentials:
    username: str
    passwords: tuple[RevealedPassword, ...]


def check_resource_group(name: str) -> str:
    if not RESOURCE_GROUP.match(name) or name.endswith("."):
        raise invalid(
            f"Resource group name '{name}' is invalid: "
            "use up to 90 letters, digits, '-', '_', '.', '(' or ')'."
        )
    return name


def check_registry_name(name: str) -> str:
    if not REGISTRY_NAME.match(name):
        raise invalid(
            f"Registry name '{name}' is invalid: registry names may contain only alpha numeric characters "
            "and must be between 5 and 50 characters.",
            "registryName",
        )
    return name


def check_ip_rule(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise invalid(f"'{value}' is not an IPv4 address or CIDR range.", "ipRules") from None
    if network.version != 4:
        raise invalid(f"'{value}' is not an IPv4 address or CIDR range.", "ipRules")
    return value if "/" in value else str(network.network_address)


def check_default_action(value: str) -> str:
    for allowed in ("Allow", "Deny"):
        if value.lower() == allowed.lower():
            return allowed
    raise invalid(f"defaultAction must be Allow or Deny, not '{value}'.", "defaultAction")


class RegistryAdmin:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        tenancy: Tenancy,
        storage: StorageDriver,
        directory: RegistryDirectory,
    ) -> None:
        self.settings = settings
        self._db = db
        self._tenancy = tenancy
        self._storage = storage
        self._directory = directory

    def login_server(self, record: RegistryRecord) -> str:
        return self.settings.login_server(record.name)

    def storage_quota(self, record: RegistryRecord) -> StorageQuota:
        """The quota that applies to the registry: its own setting, else the service's default."""
        return StorageQuota.of(record, self.settings.default_storage_quota)

    async def get(self, name: str, resource_group: str | None = None) -> RegistryRecord:
        record = await self._db.read(registry_rows.get_by_name, name)
        if record is None or (
            resource_group is not None and record.resource_group.lower() != resource_group.lower()
        ):
            raise not_found(
                "Microsoft.ContainerRegistry/registries", name, f"resource group '{resource_group}'"
            )
        return record

    async def list_registries(self, resource_group: str | None = None) -> list[RegistryRecord]:
        return await self._db.read(registry_rows.list_all, resource_group)

    async def check_name(self, name: str) -> dict[str, Any]:
        if not REGISTRY_NAME.match(name):
            return {
                "nameAvailable": False,
                "reason": "Invalid",
                "message": "The registry name must be 5 to 50 alphanumeric characters.",
            }
        if await self._db.read(registry_rows.get_by_name, name) is not None:
            return {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The registry {name} is already in use.",
            }
        return {"nameAvailable": True}

    async def create(self, name: str, resource_group: str, **properties: Any) -> RegistryRecord:
        check_registry_name(name)
        check_resource_group(resource_group)
        properties = self._checked(properties)
        try:
            record = await self._db.write(
                registry_rows.create, name, resource_group=resource_group, **properties
            )
        except registry_rows.RegistryExists:
            raise conflict("AlreadyInUse", f"The registry {name} is already in use.") from None
        self._directory.invalidate(name)
        return record

    async def update(self, record: RegistryRecord, **properties: Any) -> RegistryRecord:
        properties = self._checked(properties)
        updated = await self._db.write(registry_rows.update_properties, record.id, **properties)
        self._directory.invalidate(record.name)
        assert updated is not None
        return updated

    def _checked(self, properties: dict[str, Any]) -> dict[str, Any]:
        unknown = set(properties) - set(UPDATABLE) - {"ip_rules", "location", "sku"}
        if unknown:
            raise invalid(f"unknown registry properties: {', '.join(sorted(unknown))}")
        checked = dict(properties)
        if "network_default_action" in checked:
            checked["network_default_action"] = check_default_action(checked["network_default_action"])
        if "ip_rules" in checked:
            rules = [IpRule(check_ip_rule(rule.value), "Allow") for rule in checked["ip_rules"]]
            if len(rules) > MAX_IP_RULES:
                raise invalid(f"a registry may have at most {MAX_IP_RULES} IP rules", "ipRules")
            checked["ip_rules"] = tuple(dict.fromkeys(rules))
        if "storage_quota" in checked:
            try:
                checked["storage_quota"] = registry_setting(str(checked["storage_quota"]))
            except ValueError as exc:
                raise invalid(f"storageQuota: {exc}; or unlimited, or default", "storageQuota") from None
        return checked

    async def delete(self, record: RegistryRecord) -> None:
        if record.name.lower() == self.settings.default_registry.lower():
            raise ManagementError(
                "OperationNotAllowed",
                f"'{record.name}' is the default registry served at the bare address; "
                "set another default_registry before deleting it.",
                409,
            )
        scope = self._tenancy.registry_id(record)

        def work(conn: Connection) -> None:
            assignment_rows.remove_under_scope(conn, scope)
            registry_rows.remove(conn, record.id)

        await self._db.write(work)
        self._directory.invalidate(record.name)
        await anyio.to_thread.run_sync(self._storage.delete_registry, record.id)

    # --- the admin user -------------------------------------------------------------------

    def _require_admin(self, record: RegistryRecord) -> None:
        if not record.admin_enabled:
            raise ManagementError(
                "AdminUserDisabled",
                f"The admin user is disabled. Run 'berth acr update -n {record.name} --admin-enabled true' "
                "to enable admin first.",
                400,
            )

    async def admin_credentials(self, record: RegistryRecord) -> AdminCredentials:
        """Both passwords; each one's value appears only in the answer that generated it."""
        self._require_admin(record)
        stored = {p.name for p in await self._db.read(access_rows.admin_passwords_of, record.id)}
        revealed = []
        for name in ADMIN_PASSWORD_NAMES:
            if name in stored:
                revealed.append(RevealedPassword(name, None))
            else:
                secret = generate()
                await self._db.write(access_rows.set_admin_password, record.id, name, hash_secret(secret))
                revealed.append(RevealedPassword(name, secret))
        return AdminCredentials(record.name, tuple(revealed))

    async def regenerate_admin_password(self, record: RegistryRecord, name: str) -> AdminCredentials:
        self._require_admin(record)
        if name not in ADMIN_PASSWORD_NAMES:
            raise invalid(f"name must be 'password' or 'password2', not '{name}'.", "name")
        secret = generate()
        await self._db.write(access_rows.set_admin_password, record.id, name, hash_secret(secret))
        credentials = await self.admin_credentials(record)
        return replace(
            credentials,
            passwords=tuple(
                RevealedPassword(p.name, secret) if p.name == name else p for p in credentials.passwords
            ),
        )
