"""The one tenant and subscription a berth service represents, and ARM resource ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from berth.metadata import service_settings
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord

PROVIDER = "Microsoft.ContainerRegistry"


@dataclass(frozen=True)
class Tenancy:
    tenant_id: str
    subscription_id: str

    @classmethod
    def load(cls, db: Database) -> Tenancy:
        tenant = db.write_sync(service_settings.get_or_create, "tenant_id", lambda: str(uuid.uuid4()))
        subscription = db.write_sync(
            service_settings.get_or_create, "subscription_id", lambda: str(uuid.uuid4())
        )
        return cls(tenant, subscription)

    @property
    def subscription_scope(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def resource_group_scope(self, resource_group: str) -> str:
        return f"{self.subscription_scope}/resourceGroups/{resource_group}"

    def registry_id(self, registry: RegistryRecord) -> str:
        group = self.resource_group_scope(registry.resource_group)
        return f"{group}/providers/{PROVIDER}/registries/{registry.name}"


def scope_covers(assignment_scope: str, resource_id: str) -> bool:
    """Whether a role assignment at ``assignment_scope`` applies to ``resource_id`` (ARM rules)."""
    scope = assignment_scope.rstrip("/").lower()
    resource = resource_id.rstrip("/").lower()
    return resource == scope or resource.startswith(scope + "/")
