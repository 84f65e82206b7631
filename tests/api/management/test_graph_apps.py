"""Graph as az uses it: applications, servicePrincipalNames, creating by appId, getByIds."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error, sign_in


def test_an_application_is_its_service_principal(owner: ArmCaller) -> None:
    app = owner.ok(owner.post("/v1.0/applications", {"displayName": "ci-app"}), 201)
    added = owner.ok(owner.post(f"/v1.0/applications/{app['id']}/addPassword", {"passwordCredential": {}}))
    sp = owner.ok(owner.post("/v1.0/servicePrincipals", {"appId": app["appId"]}), 201)
    listed = owner.ok(owner.get("/v1.0/applications", params={"$filter": "startswith(displayName,'ci-')"}))
    by_app_id = owner.ok(owner.get("/v1.0/applications", params={"$filter": f"appId eq '{app['appId']}'"}))

    assert app["id"] == app["appId"]
    assert app["displayName"] == "ci-app"
    assert sp["appId"] == app["appId"]
    assert sp["servicePrincipalNames"] == [app["appId"]]
    assert [a["appId"] for a in listed["value"]] == [app["appId"]]
    assert [c["keyId"] for c in by_app_id["value"][0]["passwordCredentials"]] == [added["keyId"]]
    assert sign_in(owner.client, client_id=app["appId"], client_secret=added["secretText"])


def test_remove_password_and_delete_through_applications(owner: ArmCaller, client: TestClient) -> None:
    app = owner.ok(owner.post("/v1.0/applications", {"displayName": "gone-app"}), 201)
    added = owner.ok(owner.post(f"/v1.0/applications/{app['id']}/addPassword", {}))

    removed = owner.post(f"/v1.0/applications/{app['id']}/removePassword", {"keyId": added["keyId"]})
    refused = client.post(
        "/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["appId"],
            "client_secret": added["secretText"],
            "scope": "https://management.azure.com/.default",
        },
    )
    deleted = owner.delete(f"/v1.0/applications/{app['id']}")

    assert removed.status_code == 204
    assert refused.status_code == 401
    assert deleted.status_code == 204
    assert_arm_error(owner.get(f"/v1.0/servicePrincipals/{app['appId']}"), 404, "ResourceNotFound")
    assert_arm_error(owner.get(f"/v1.0/applications/{app['id']}"), 404, "ResourceNotFound")


def test_service_principal_names_filter_finds_by_app_id(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("named-sp")
    owner.create_service_principal("other-sp")

    found = owner.ok(
        owner.get(
            "/v1.0/servicePrincipals",
            params={"$filter": f"servicePrincipalNames/any(c:c eq '{sp['appId']}')"},
        )
    )["value"]

    assert [s["id"] for s in found] == [sp["id"]]


def test_creating_a_service_principal_needs_a_name_or_an_existing_app_id(owner: ArmCaller) -> None:
    assert_arm_error(owner.post("/v1.0/servicePrincipals", {}), 400, "InvalidParameter")
    missing = owner.post("/v1.0/servicePrincipals", {"appId": "00000000-0000-0000-0000-000000000001"})
    assert_arm_error(missing, 404, "ResourceNotFound")


def test_get_by_ids_names_users_and_service_principals(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("lookup-sp")
    me = owner.ok(owner.get("/v1.0/users/admin@localhost"))
    unknown = "00000000-0000-0000-0000-000000000002"

    everything = owner.ok(
        owner.post("/v1.0/directoryObjects/getByIds", {"ids": [me["id"], sp["id"], unknown]})
    )
    only_sps = owner.ok(
        owner.post(
            "/v1.0/directoryObjects/getByIds", {"ids": [me["id"], sp["id"]], "types": ["servicePrincipal"]}
        )
    )

    kinds = {o["id"]: o["@odata.type"] for o in everything["value"]}
    assert kinds == {me["id"]: "#microsoft.graph.user", sp["id"]: "#microsoft.graph.servicePrincipal"}
    assert (
        next(o for o in everything["value"] if o["id"] == me["id"])["userPrincipalName"] == "admin@localhost"
    )
    assert [o["id"] for o in only_sps["value"]] == [sp["id"]]


def test_applications_follow_the_service_principal_rules(
    owner: ArmCaller, principal: Callable[..., ArmCaller]
) -> None:
    reader = principal("Reader")
    puller = principal("AcrPull", name="puller")

    assert reader.ok(reader.get("/v1.0/applications"))["value"]
    assert_arm_error(
        reader.post("/v1.0/applications", {"displayName": "nope-app"}), 403, "AuthorizationFailed"
    )
    assert_arm_error(puller.get("/v1.0/applications"), 403, "AuthorizationFailed")
    assert_arm_error(
        puller.post("/v1.0/directoryObjects/getByIds", {"ids": [owner.object_id or reader.object_id]}),
        403,
        "AuthorizationFailed",
    )


def test_me_is_the_signed_in_user(owner: ArmCaller, principal: Callable[..., ArmCaller]) -> None:
    me = owner.ok(owner.get("/v1.0/me"))
    app = principal("Reader")

    assert me["userPrincipalName"] == "admin@localhost"
    assert_arm_error(app.get("/v1.0/me"), 400, "InvalidParameter")
