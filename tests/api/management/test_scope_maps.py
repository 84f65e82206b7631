"""Scope maps: the system maps, and the user's own through PUT/GET/PATCH/DELETE."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.management.arm import ArmCaller, assert_arm_error

SYSTEM = ["_repositories_admin", "_repositories_pull", "_repositories_push"]


@pytest.fixture
def registry(owner: ArmCaller) -> str:
    owner.create_registry("mapsreg")
    return owner.registry("mapsreg")


def _put(owner: ArmCaller, registry: str, name: str, actions: list[str], description: str = "") -> Any:
    body = {"properties": {"description": description, "actions": actions}}
    return owner.put(f"{registry}/scopeMaps/{name}", body)


def test_the_system_maps_come_first(owner: ArmCaller, registry: str) -> None:
    owner.ok(_put(owner, registry, "aaa-first", ["repositories/app/content/read"]), 201)

    listed = owner.ok(owner.get(f"{registry}/scopeMaps"))["value"]

    assert [m["name"] for m in listed] == [*SYSTEM, "aaa-first"]
    pull = listed[1]
    assert pull["id"] == f"{registry}/scopeMaps/_repositories_pull"
    assert pull["type"] == "Microsoft.ContainerRegistry/registries/scopeMaps"
    assert pull["properties"]["type"] == "SystemDefined"
    assert pull["properties"]["actions"] == ["repositories/*/content/read"]
    assert pull["properties"]["description"] == "Can pull any repository of the registry"


def test_create_read_replace(owner: ArmCaller, registry: str) -> None:
    created = owner.ok(
        _put(owner, registry, "hello-map", ["repositories/Samples/Hello/content/read"], "reads hello"), 201
    )

    assert created == {
        "id": f"{registry}/scopeMaps/hello-map",
        "name": "hello-map",
        "type": "Microsoft.ContainerRegistry/registries/scopeMaps",
        "properties": {
            "description": "reads hello",
            "type": "UserDefined",
            "creationDate": created["properties"]["creationDate"],
            "provisioningState": "Succeeded",
            "actions": ["repositories/samples/hello/content/read"],
        },
    }
    assert owner.ok(owner.get(f"{registry}/scopeMaps/hello-map")) == created
    replaced = owner.ok(_put(owner, registry, "hello-map", ["repositories/other/content/write"]), 200)
    assert replaced["properties"]["actions"] == ["repositories/other/content/write"]
    assert replaced["properties"]["description"] == ""


def test_patch_keeps_what_it_does_not_name(owner: ArmCaller, registry: str) -> None:
    owner.ok(_put(owner, registry, "patch-map", ["repositories/a/content/read"], "first"), 201)
    path = f"{registry}/scopeMaps/patch-map"

    described = owner.ok(owner.patch(path, {"properties": {"description": "second"}}))
    widened = owner.ok(
        owner.patch(
            path, {"properties": {"actions": ["repositories/a/content/read", "repositories/b/content/write"]}}
        )
    )

    assert described["properties"]["actions"] == ["repositories/a/content/read"]
    assert described["properties"]["description"] == "second"
    assert widened["properties"]["actions"] == ["repositories/a/content/read", "repositories/b/content/write"]
    assert widened["properties"]["description"] == "second"


def test_delete_answers_200_then_204(owner: ArmCaller, registry: str) -> None:
    owner.ok(_put(owner, registry, "gone-map", ["repositories/a/content/read"]), 201)

    assert owner.delete(f"{registry}/scopeMaps/gone-map").status_code == 200
    assert owner.delete(f"{registry}/scopeMaps/gone-map").status_code == 204
    assert_arm_error(owner.get(f"{registry}/scopeMaps/gone-map"), 404, "ResourceNotFound")


def test_a_map_in_use_cannot_be_deleted(owner: ArmCaller, registry: str) -> None:
    owner.ok(_put(owner, registry, "used-map", ["repositories/a/content/read"]), 201)
    owner.ok(
        owner.put(
            f"{registry}/tokens/user-token", {"properties": {"scopeMapId": f"{registry}/scopeMaps/used-map"}}
        ),
        201,
    )

    message = assert_arm_error(owner.delete(f"{registry}/scopeMaps/used-map"), 409, "ScopeMapInUse")

    assert "user-token" in message


def test_system_maps_are_read_only(owner: ArmCaller, registry: str) -> None:
    assert_arm_error(
        _put(owner, registry, "_repositories_pull", ["repositories/a/content/read"]),
        409,
        "SystemScopeMapReadOnly",
    )
    assert_arm_error(owner.delete(f"{registry}/scopeMaps/_repositories_pull"), 409, "SystemScopeMapReadOnly")


def test_bad_actions_and_names_are_400s_naming_them(owner: ArmCaller, registry: str) -> None:
    bad_action = _put(owner, registry, "bad-map", ["repositories/a/content/fly"])
    no_actions = owner.put(f"{registry}/scopeMaps/bad-map", {"properties": {"description": "x"}})
    bad_name = _put(owner, registry, "ab", ["repositories/a/content/read"])
    wildcard_in_middle = _put(owner, registry, "bad-map", ["repositories/a/*/b/content/read"])

    assert "content/fly" in assert_arm_error(bad_action, 400, "InvalidParameter")
    assert "properties.actions" in assert_arm_error(no_actions, 400, "InvalidRequestContent")
    assert "scopeMapName" in assert_arm_error(bad_name, 400, "InvalidRequestContent")
    assert_arm_error(wildcard_in_middle, 400, "InvalidParameter")


def test_scope_maps_of_a_missing_registry_are_404(owner: ArmCaller) -> None:
    assert_arm_error(owner.get(owner.registry("nomaps1") + "/scopeMaps"), 404, "ResourceNotFound")
