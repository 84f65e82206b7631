"""Who may do what: authentication, Owner/Contributor/Reader at a scope, data-plane roles.

Issue 4's cases: Reader cannot update, AcrPull cannot read the registry resource, Owner can
assign roles, a removed assignment stops working.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

MakePrincipal = Callable[..., ArmCaller]
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"


def test_no_token_is_401_authentication_failed(owner: ArmCaller, client: TestClient) -> None:
    missing = client.get("/subscriptions")
    basic = client.get("/subscriptions", headers={"Authorization": "Basic YTpi"})
    garbage = client.get("/subscriptions", headers={"Authorization": "Bearer not.a.token"})

    assert "missing" in assert_arm_error(missing, 401, "AuthenticationFailed")
    assert "Bearer" in assert_arm_error(basic, 401, "AuthenticationFailed")
    assert_arm_error(garbage, 401, "InvalidAuthenticationToken")


def test_a_registry_audience_token_is_not_a_management_token(owner: ArmCaller, client: TestClient) -> None:
    form = {
        "grant_type": "password",
        "username": "admin@localhost",
        "password": "owner-password-for-tests",
        "scope": "https://containerregistry.azure.net/.default",
    }
    token = client.post("/organizations/oauth2/v2.0/token", data=form).json()["access_token"]

    response = client.get("/subscriptions", headers={"Authorization": f"Bearer {token}"})

    assert_arm_error(response, 401, "InvalidAuthenticationToken")


def test_authentication_comes_before_validation(client: TestClient, owner: ArmCaller) -> None:
    response = client.put(owner.registry("x"), json={"location": 5})

    assert_arm_error(response, 401, "AuthenticationFailed")


def test_reader_reads_but_cannot_update(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("readable")
    reader = principal("Reader", owner.subscription)
    path = owner.registry("readable")

    read = reader.get(path)
    update = reader.patch(path, {"properties": {"adminUserEnabled": True}})
    credentials = reader.post(path + "/listCredentials")
    create = reader.put(owner.registry("newone"), {})

    assert read.status_code == 200
    message = assert_arm_error(update, 403, "AuthorizationFailed")
    assert f"object id '{reader.object_id}'" in message
    assert "'Microsoft.ContainerRegistry/registries/write'" in message
    assert f"over scope '{path}'" in message
    assert "listCredentials/action" in assert_arm_error(credentials, 403, "AuthorizationFailed")
    assert_arm_error(create, 403, "AuthorizationFailed")
    assert owner.ok(owner.get(path))["properties"]["adminUserEnabled"] is False


def test_acr_pull_cannot_read_the_registry_resource(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("pullonly")
    path = owner.registry("pullonly")
    puller = principal("AcrPull", path)

    response = puller.get(path)

    message = assert_arm_error(response, 403, "AuthorizationFailed")
    assert "'Microsoft.ContainerRegistry/registries/read'" in message
    assert "AcrPull" in message
    assert "Reader, Contributor or Owner" in message
    listed = puller.ok(puller.get(f"{owner.subscription}/providers/Microsoft.ContainerRegistry/registries"))
    assert listed == {"value": []}


def test_contributor_manages_but_cannot_assign_roles(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("contrib")
    path = owner.registry("contrib")
    contributor = principal("Contributor", path)
    other = owner.ok(owner.post("/v1.0/servicePrincipals", {"displayName": "other"}), 201)

    updated = contributor.patch(path, {"properties": {"adminUserEnabled": True}})
    credentials = contributor.post(path + "/listCredentials")
    token = contributor.put(
        path + "/tokens/ci-token", {"properties": {"scopeMapId": path + "/scopeMaps/_repositories_pull"}}
    )
    assign = contributor.put(
        f"{path}{ASSIGNMENTS}/{uuid.uuid4()}",
        {"properties": {"roleDefinitionId": owner.role_definition_id("AcrPull"), "principalId": other["id"]}},
    )

    assert updated.status_code == 200
    assert credentials.status_code == 200
    assert token.status_code == 201
    message = assert_arm_error(assign, 403, "AuthorizationFailed")
    assert "'Microsoft.Authorization/roleAssignments/write'" in message


def test_owner_of_a_registry_can_assign_roles_there_only(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("owned")
    path = owner.registry("owned")
    registry_owner = principal("Owner", path, name="registry-owner")
    assignee = owner.ok(owner.post("/v1.0/servicePrincipals", {"displayName": "assignee"}), 201)
    body = {
        "properties": {"roleDefinitionId": owner.role_definition_id("AcrPull"), "principalId": assignee["id"]}
    }

    here = registry_owner.put(f"{path}{ASSIGNMENTS}/{uuid.uuid4()}", body)
    above = registry_owner.put(f"{owner.subscription}{ASSIGNMENTS}/{uuid.uuid4()}", body)
    looked_up = registry_owner.get(f"/v1.0/servicePrincipals/{assignee['appId']}")

    assert here.status_code == 201
    assert here.json()["properties"]["principalId"] == assignee["id"]
    assert_arm_error(above, 403, "AuthorizationFailed")
    assert looked_up.status_code == 200


def test_a_removed_assignment_stops_working(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("revoked")
    path = owner.registry("revoked")
    caller = principal(None)
    assignment = owner.assign(caller.object_id, "Contributor", path)
    before = caller.patch(path, {"tags": {"a": "1"}})

    owner.ok(owner.delete(assignment["id"]))
    after = caller.patch(path, {"tags": {"a": "2"}})

    assert before.status_code == 200
    assert_arm_error(after, 403, "AuthorizationFailed")
    assert owner.ok(owner.get(path))["tags"] == {"a": "1"}


def test_a_role_on_a_resource_group_covers_its_registries_only(
    owner: ArmCaller, principal: MakePrincipal
) -> None:
    owner.create_registry("ingroup", resource_group="teamA")
    owner.create_registry("outgroup", resource_group="teamB")
    reader = principal("Reader", owner.group("teamA"))

    listed = reader.ok(reader.get(f"{owner.subscription}/providers/Microsoft.ContainerRegistry/registries"))

    assert [r["name"] for r in listed["value"]] == ["ingroup"]
    assert reader.get(owner.registry("ingroup", "teamA")).status_code == 200
    assert_arm_error(reader.get(owner.registry("outgroup", "teamB")), 403, "AuthorizationFailed")


def test_authorization_comes_before_existence(owner: ArmCaller, principal: MakePrincipal) -> None:
    owner.create_registry("somereg")
    puller = principal("AcrPull", owner.registry("somereg"))

    assert_arm_error(puller.get(owner.registry("nosuchreg")), 403, "AuthorizationFailed")


def test_directory_permissions(owner: ArmCaller, principal: MakePrincipal) -> None:
    contributor = principal("Contributor", owner.subscription, name="contributor")
    puller = principal("AcrPull", owner.subscription, name="puller")
    owner_sp, _ = owner.create_service_principal("powerful")
    owner.assign(owner_sp["id"], "Owner", owner.subscription)
    new_user = {"userPrincipalName": "carol@localhost", "passwordProfile": {"password": "carol-password-1"}}

    created_sp = contributor.post("/v1.0/servicePrincipals", {"displayName": "made-by-contributor"})
    created_user = contributor.post("/v1.0/users", new_user)
    takeover = contributor.post(f"/v1.0/servicePrincipals/{owner_sp['id']}/addPassword")
    listed_by_puller = puller.get("/v1.0/users")
    self_lookup = puller.get(f"/v1.0/servicePrincipals/{puller.object_id}")

    assert created_sp.status_code == 201
    assert_arm_error(created_user, 403, "AuthorizationFailed")
    assert_arm_error(takeover, 403, "AuthorizationFailed")
    assert_arm_error(listed_by_puller, 403, "AuthorizationFailed")
    assert self_lookup.status_code == 200
    assert owner.post(f"/v1.0/servicePrincipals/{owner_sp['id']}/addPassword").status_code == 200


def test_a_disabled_callers_token_stops_working(owner: ArmCaller, principal: MakePrincipal) -> None:
    reader = principal("Reader", owner.subscription)

    owner.ok(owner.patch(f"/v1.0/servicePrincipals/{reader.object_id}", {"accountEnabled": False}))

    assert_arm_error(reader.get("/subscriptions"), 401, "InvalidAuthenticationToken")
