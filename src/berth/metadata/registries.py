"""Registries: the rows that say which registries exist and how each is configured."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.engine import RowMapping

from berth.metadata.schema import registries, registry_usage


@dataclass(frozen=True)
class IpRule:
    value: str
    action: str = "Allow"


@dataclass(frozen=True)
class RegistryRecord:
    id: str
    name: str
    resource_group: str
    location: str
    sku: str
    created_at: float
    admin_enabled: bool = False
    anonymous_pull_enabled: bool = False
    public_network_enabled: bool = True
    network_default_action: str = "Allow"
    ip_rules: tuple[IpRule, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    storage_quota: int | None = None  # bytes; None: the service's default; -1: unlimited

    @property
    def name_lower(self) -> str:
        return self.name.lower()


class RegistryExists(ValueError):
    pass


def _record(row: RowMapping) -> RegistryRecord:
    rules = tuple(
        IpRule(value=r["value"], action=r.get("action", "Allow")) for r in json.loads(row["ip_rules"])
    )
    return RegistryRecord(
        id=row["id"],
        name=row["name"],
        resource_group=row["resource_group"],
        location=row["location"],
        sku=row["sku"],
        created_at=row["created_at"],
        admin_enabled=bool(row["admin_enabled"]),
        anonymous_pull_enabled=bool(row["anonymous_pull_enabled"]),
        public_network_enabled=bool(row["public_network_enabled"]),
        network_default_action=row["network_default_action"],
        ip_rules=rules,
        tags=json.loads(row["tags"]),
        storage_quota=None if row["storage_quota"] is None else int(row["storage_quota"]),
    )


def get_by_name(conn: Connection, name: str) -> RegistryRecord | None:
    row = conn.execute(select(registries).where(registries.c.name_lower == name.lower())).mappings().first()
    return _record(row) if row else None


def get_by_id(conn: Connection, registry_id: str) -> RegistryRecord | None:
    row = conn.execute(select(registries).where(registries.c.id == registry_id)).mappings().first()
    return _record(row) if row else None


def list_all(conn: Connection, resource_group: str | None = None) -> list[RegistryRecord]:
    query = select(registries).order_by(registries.c.name_lower)
    if resource_group is not None:
        query = query.where(func.lower(registries.c.resource_group) == resource_group.lower())
    return [_record(row) for row in conn.execute(query).mappings()]


def create(
    conn: Connection,
    /,
    name: str,
    *,
    resource_group: str = "default",
    location: str = "local",
    sku: str = "Premium",
    **properties: Any,
) -> RegistryRecord:
    if get_by_name(conn, name) is not None:
        raise RegistryExists(f"The registry {name} is already in use.")
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "name": name,
        "name_lower": name.lower(),
        "resource_group": resource_group,
        "location": location,
        "sku": sku,
        "created_at": time.time(),
    }
    values.update(_encode(properties))
    conn.execute(registries.insert().values(**values))
    conn.execute(registry_usage.insert().values(registry_id=values["id"], stored_bytes=0))
    record = get_by_id(conn, values["id"])
    assert record is not None
    return record


def update_properties(conn: Connection, /, registry_id: str, **properties: Any) -> RegistryRecord | None:
    values = _encode(properties)
    if values:
        conn.execute(update(registries).where(registries.c.id == registry_id).values(**values))
    return get_by_id(conn, registry_id)


def remove(conn: Connection, registry_id: str) -> bool:
    return conn.execute(delete(registries).where(registries.c.id == registry_id)).rowcount > 0


def ensure(conn: Connection, name: str) -> RegistryRecord:
    """Return the registry called ``name``, creating it with defaults when it is missing."""
    return get_by_name(conn, name) or create(conn, name)


def _encode(properties: dict[str, Any]) -> dict[str, Any]:
    values = dict(properties)
    if "ip_rules" in values:
        values["ip_rules"] = json.dumps(
            [{"action": rule.action, "value": rule.value} for rule in values["ip_rules"]]
        )
    if "tags" in values:
        values["tags"] = json.dumps(values["tags"])
    return values
