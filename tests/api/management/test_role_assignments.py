"""Role definitions and assignments at the subscription, a resource group and a registry."""

from __future__ import annotations

import uuid

from berth.app import BerthApp
from tests.api.management.arm import ROLE_IDS, ArmCaller, assert_arm_error

ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"
DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"


def _sp(owner: ArmCaller, name: str = "assignee") -> str:
    sp = owner.ok(owner.post("/v1.0/servicePrincipals", {"displayName": name}), 201)
    object_id: str = sp["id"]
    return object_id


def _body(owner: ArmCaller, role: str, principal_id: str) -> dict[str, object]:
    return {"properties": {"roleDefinitionId": owner.role_definition_id(role), "principalId": principal_id}}


def test_role_definitions_are_azures_built_in_roles(owner: ArmCaller) -> None:
    listed = owner.ok(owner.get(owner.subscription + DEFINITIONS))["value"]
    filtered = owner.ok(
        owner.get(owner.subscription + DEFINITIONS, params={"$filter": "roleName eq 'AcrPull'"})
    )
    single = owner.ok(owner.get(f"{owner.subscription}{DEFINITIONS}/{ROLE_IDS['Reader']}"))

    names = {d["properties"]["roleName"]: d["name"] for d in listed}
    assert names == {**ROLE_IDS, "AcrDelete": "c2f4ef07-c644-48eb-af81-4b1b4947fb11"} | {
        "AcrImageSigner": "6cef56e8-d556-48e5-a04f-b8e64114680f"
    }
    assert [d["properties"]["roleName"] for d in filtered["value"]] == ["AcrPull"]
    pull = filtered["value"][0]
    assert pull["id"] == owner.role_definition_id("AcrPull")
    assert pull["type"] == "Microsoft.Authorization/roleDefinitions"
    assert pull["properties"]["type"] == "BuiltInRole"
    assert pull["properties"]["permissions"][0]["actions"] == [
        "Microsoft.ContainerRegistry/registries/pull/read"
    ]
    assert single["properties"]["roleName"] == "Reader"
    assert_arm_error(
        owner.get(f"{owner.subscription}{DEFINITIONS}/NoSuchRole"), 404, "RoleDefinitionDoesNotExist"
    )


def test_assign_at_a_registry(owner: ArmCaller) -> None:
    owner.create_registry("rolereg")
    principal = _sp(owner)
    scope = owner.registry("rolereg")
    name = str(uuid.uuid4())

    response = owner.put(f"{scope}{ASSIGNMENTS}/{name}", _body(owner, "AcrPull", principal))

    created = owner.ok(response, 201)
    assert created == {
        "id": f"{scope}{ASSIGNMENTS}/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": owner.role_definition_id("AcrPull"),
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
            "createdOn": created["properties"]["createdOn"],
            "updatedOn": created["properties"]["updatedOn"],
        },
    }
    assert owner.ok(owner.get(f"{scope}{ASSIGNMENTS}/{name}")) == created


def test_the_same_put_again_answers_200(owner: ArmCaller) -> None:
    principal = _sp(owner)
    path = f"{owner.group('teamA')}{ASSIGNMENTS}/{uuid.uuid4()}"

    first = owner.ok(owner.put(path, _body(owner, "Reader", principal)), 201)
    again = owner.ok(owner.put(path, _body(owner, "Reader", principal)), 200)

    assert again == first
    assert first["properties"]["scope"] == owner.group("teamA")


def test_conflicting_assignments_are_409(owner: ArmCaller) -> None:
    principal = _sp(owner)
    scope = owner.subscription
    name = str(uuid.uuid4())
    owner.ok(owner.put(f"{scope}{ASSIGNMENTS}/{name}", _body(owner, "Reader", principal)), 201)

    duplicate = owner.put(f"{scope}{ASSIGNMENTS}/{uuid.uuid4()}", _body(owner, "Reader", principal))
    changed = owner.put(f"{scope}{ASSIGNMENTS}/{name}", _body(owner, "Contributor", principal))

    assert name in assert_arm_error(duplicate, 409, "RoleAssignmentExists")
    assert_arm_error(changed, 409, "RoleAssignmentUpdateNotPermitted")


def test_bad_assignments_are_400s(owner: ArmCaller) -> None:
    principal = _sp(owner)
    scope = owner.subscription

    unknown_principal = owner.put(
        f"{scope}{ASSIGNMENTS}/{uuid.uuid4()}", _body(owner, "Reader", "11111111-2222-3333-4444-555555555555")
    )
    unknown_role = owner.put(
        f"{scope}{ASSIGNMENTS}/{uuid.uuid4()}",
        {"properties": {"roleDefinitionId": "NoSuchRole", "principalId": principal}},
    )
    not_a_guid = owner.put(f"{scope}{ASSIGNMENTS}/not-a-guid", _body(owner, "Reader", principal))
    bad_principal = owner.put(
        f"{scope}{ASSIGNMENTS}/{uuid.uuid4()}",
        {"properties": {"roleDefinitionId": owner.role_definition_id("Reader"), "principalId": "bob"}},
    )

    assert_arm_error(unknown_principal, 400, "PrincipalNotFound")
    assert "NoSuchRole" in assert_arm_error(unknown_role, 400, "InvalidParameter")
    assert "roleAssignmentName" in assert_arm_error(not_a_guid, 400, "InvalidRequestContent")
    assert "properties.principalId" in assert_arm_error(bad_principal, 400, "InvalidRequestContent")


def test_assigning_at_a_missing_registry_is_404(owner: ArmCaller) -> None:
    principal = _sp(owner)

    response = owner.put(
        f"{owner.registry('ghostreg')}{ASSIGNMENTS}/{uuid.uuid4()}", _body(owner, "Reader", principal)
    )

    assert_arm_error(response, 404, "ResourceNotFound")


def test_list_shows_inherited_and_nested_assignments(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("rolereg")
    principal = _sp(owner)
    registry = owner.registry("rolereg")
    at_registry = owner.assign(principal, "AcrPush", registry)
    at_group = owner.assign(principal, "Reader", owner.group())

    on_registry = owner.ok(owner.get(registry + ASSIGNMENTS))["value"]
    on_subscription = owner.ok(owner.get(owner.subscription + ASSIGNMENTS))["value"]
    at_scope_only = owner.ok(owner.get(owner.subscription + ASSIGNMENTS, params={"$filter": "atScope()"}))[
        "value"
    ]
    for_principal = owner.ok(
        owner.get(owner.subscription + ASSIGNMENTS, params={"$filter": f"principalId eq '{principal}'"})
    )["value"]

    owner_assignment = next(a for a in on_subscription if a["properties"]["principalType"] == "User")
    assert {a["name"] for a in on_registry} == {
        at_registry["name"],
        at_group["name"],
        owner_assignment["name"],
    }
    assert {a["name"] for a in on_subscription} == {
        at_registry["name"],
        at_group["name"],
        owner_assignment["name"],
    }
    assert [a["name"] for a in at_scope_only] == [owner_assignment["name"]]
    assert {a["name"] for a in for_principal} == {at_registry["name"], at_group["name"]}
    assert owner_assignment["properties"]["scope"] == f"/subscriptions/{app.services.tenancy.subscription_id}"


def test_an_unsupported_filter_is_400_naming_it(owner: ArmCaller) -> None:
    response = owner.get(owner.subscription + ASSIGNMENTS, params={"$filter": "roleName eq 'x' or true"})

    assert response.json()["error"]["target"] == "$filter"
    assert_arm_error(response, 400, "InvalidParameter")


def test_an_assignment_is_found_only_at_its_own_scope(owner: ArmCaller) -> None:
    owner.create_registry("rolereg")
    principal = _sp(owner)
    assignment = owner.assign(principal, "AcrPull", owner.registry("rolereg"))

    elsewhere = owner.get(f"{owner.subscription}{ASSIGNMENTS}/{assignment['name']}")
    delete_elsewhere = owner.delete(f"{owner.subscription}{ASSIGNMENTS}/{assignment['name']}")

    assert_arm_error(elsewhere, 404, "ResourceNotFound")
    assert delete_elsewhere.status_code == 204
    assert owner.get(assignment["id"]).status_code == 200


def test_delete_answers_200_with_the_assignment_then_204(owner: ArmCaller) -> None:
    principal = _sp(owner)
    assignment = owner.assign(principal, "Reader", owner.subscription)

    first = owner.delete(assignment["id"])
    second = owner.delete(assignment["id"])

    assert first.status_code == 200
    assert first.json() == assignment
    assert second.status_code == 204
    assert_arm_error(owner.get(assignment["id"]), 404, "ResourceNotFound")


def test_deleting_a_registry_drops_its_assignments(owner: ArmCaller) -> None:
    owner.create_registry("rolereg")
    principal = _sp(owner)
    owner.assign(principal, "AcrPull", owner.registry("rolereg"))

    owner.ok(owner.delete(owner.registry("rolereg")))

    remaining = owner.ok(
        owner.get(owner.subscription + ASSIGNMENTS, params={"$filter": f"principalId eq '{principal}'"})
    )
    assert remaining == {"value": []}
