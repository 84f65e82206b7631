"""berth.metadata.registries: which registries exist and their properties."""

from __future__ import annotations

import pytest

from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.metadata.registries import IpRule, RegistryExists, RegistryRecord


def test_create_and_find_case_insensitively(db: Database) -> None:
    created = db.write_sync(registry_rows.create, "MyReg", resource_group="rg1", location="westeurope")

    assert created.name == "MyReg"
    assert created.name_lower == "myreg"
    assert (created.resource_group, created.location, created.sku) == ("rg1", "westeurope", "Premium")
    assert created.public_network_enabled is True
    assert created.admin_enabled is False
    assert created.ip_rules == ()
    assert db.read_sync(registry_rows.get_by_name, "MYREG") == created
    assert db.read_sync(registry_rows.get_by_id, created.id) == created


def test_names_are_unique_regardless_of_case(db: Database, registry: RegistryRecord) -> None:
    with pytest.raises(RegistryExists):
        db.write_sync(registry_rows.create, registry.name.upper())


def test_unknown_registry(db: Database) -> None:
    assert db.read_sync(registry_rows.get_by_name, "nothing") is None
    assert db.read_sync(registry_rows.get_by_id, "0" * 32) is None


def test_ensure_is_idempotent(db: Database) -> None:
    first = db.write_sync(registry_rows.ensure, "default")
    second = db.write_sync(registry_rows.ensure, "Default")

    assert first == second


def test_list_all_is_sorted_and_filters_by_resource_group(db: Database) -> None:
    db.write_sync(registry_rows.create, "Zulu1", resource_group="RG-A")
    db.write_sync(registry_rows.create, "alpha1", resource_group="rg-b")
    db.write_sync(registry_rows.create, "Mike1", resource_group="rg-a")

    assert [r.name for r in db.read_sync(registry_rows.list_all)] == ["alpha1", "Mike1", "Zulu1"]
    assert [r.name for r in db.read_sync(registry_rows.list_all, "rg-A")] == ["Mike1", "Zulu1"]


def test_update_properties_round_trips_rules_and_tags(db: Database, registry: RegistryRecord) -> None:
    rules = (IpRule("10.0.0.0/8"), IpRule("192.168.1.1", "Allow"))

    updated = db.write_sync(
        registry_rows.update_properties,
        registry.id,
        ip_rules=rules,
        tags={"team": "platform"},
        network_default_action="Deny",
        anonymous_pull_enabled=True,
    )

    assert updated is not None
    assert updated.ip_rules == rules
    assert updated.tags == {"team": "platform"}
    assert updated.network_default_action == "Deny"
    assert updated.anonymous_pull_enabled is True
    assert db.read_sync(registry_rows.get_by_id, registry.id) == updated


def test_remove(db: Database, registry: RegistryRecord) -> None:
    assert db.write_sync(registry_rows.remove, registry.id) is True
    assert db.write_sync(registry_rows.remove, registry.id) is False
    assert db.read_sync(registry_rows.get_by_name, registry.name) is None
