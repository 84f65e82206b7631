"""Users and service principals through the Graph-shaped ``/v1.0`` endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

TOKEN_URL = "/organizations/oauth2/v2.0/token"
SCOPE = "https://management.azure.com/.default"


def _user_sign_in(client: TestClient, upn: str, password: str) -> int:
    form = {"grant_type": "password", "username": upn, "password": password, "scope": SCOPE}
    status: int = client.post(TOKEN_URL, data=form).status_code
    return status


def _sp_sign_in(client: TestClient, app_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret, "scope": SCOPE}
    status: int = client.post(TOKEN_URL, data=form).status_code
    return status


def _new_user(owner: ArmCaller, upn: str = "alice@localhost", **extra: object) -> dict[str, object]:
    body = {
        "userPrincipalName": upn,
        "displayName": "Alice",
        "passwordProfile": {"password": "alice-password-1"},
        **extra,
    }
    created: dict[str, object] = owner.ok(owner.post("/v1.0/users", body), 201)
    return created


def test_create_a_user_who_can_sign_in(owner: ArmCaller, client: TestClient) -> None:
    created = _new_user(owner)

    assert set(created) == {"id", "userPrincipalName", "displayName", "accountEnabled"}
    assert created["userPrincipalName"] == "alice@localhost"
    assert created["displayName"] == "Alice"
    assert created["accountEnabled"] is True
    assert _user_sign_in(client, "alice@localhost", "alice-password-1") == 200


def test_get_list_and_filter_users(owner: ArmCaller) -> None:
    created = _new_user(owner)

    by_id = owner.ok(owner.get(f"/v1.0/users/{created['id']}"))
    by_upn = owner.ok(owner.get("/v1.0/users/alice@localhost"))
    listed = owner.ok(owner.get("/v1.0/users"))["value"]
    filtered = owner.ok(
        owner.get("/v1.0/users", params={"$filter": "userPrincipalName eq 'alice@localhost'"})
    )

    assert by_id == by_upn == created
    assert {u["userPrincipalName"] for u in listed} == {"admin@localhost", "alice@localhost"}
    assert filtered == {"value": [created]}
    assert_arm_error(owner.get("/v1.0/users/nobody@localhost"), 404, "ResourceNotFound")
    assert_arm_error(owner.get("/v1.0/users/not-an-id"), 404, "ResourceNotFound")


def test_user_creation_is_validated(owner: ArmCaller) -> None:
    _new_user(owner)
    base = {"userPrincipalName": "bob@localhost", "passwordProfile": {"password": "bob-password-1"}}

    duplicate = owner.post("/v1.0/users", {**base, "userPrincipalName": "alice@localhost"})
    short = owner.post("/v1.0/users", {**base, "passwordProfile": {"password": "short"}})
    bad_upn = owner.post("/v1.0/users", {**base, "userPrincipalName": "bob"})
    no_password = owner.post("/v1.0/users", {"userPrincipalName": "bob@localhost"})

    assert_arm_error(duplicate, 409, "AlreadyExists")
    assert_arm_error(short, 400, "InvalidParameter")
    assert_arm_error(bad_upn, 400, "InvalidParameter")
    assert "passwordProfile" in assert_arm_error(no_password, 400, "InvalidRequestContent")


def test_disable_then_delete_a_user(owner: ArmCaller, client: TestClient) -> None:
    created = _new_user(owner)
    path = f"/v1.0/users/{created['id']}"

    disabled = owner.ok(owner.patch(path, {"accountEnabled": False}))
    signed_in_disabled = _user_sign_in(client, "alice@localhost", "alice-password-1")
    deleted = owner.delete(path)

    assert disabled["accountEnabled"] is False
    assert signed_in_disabled == 400
    assert deleted.status_code == 204
    assert_arm_error(owner.get(path), 404, "ResourceNotFound")
    assert_arm_error(owner.delete(path), 404, "ResourceNotFound")


def test_a_user_created_disabled_cannot_sign_in(owner: ArmCaller, client: TestClient) -> None:
    created = _new_user(owner, accountEnabled=False)

    assert created["accountEnabled"] is False
    assert _user_sign_in(client, "alice@localhost", "alice-password-1") == 400


def test_service_principal_lifecycle(owner: ArmCaller, client: TestClient) -> None:
    created = owner.ok(owner.post("/v1.0/servicePrincipals", {"displayName": "ci-pipeline"}), 201)

    assert set(created) == {
        "id",
        "appId",
        "displayName",
        "accountEnabled",
        "servicePrincipalType",
        "servicePrincipalNames",
        "passwordCredentials",
    }
    assert created["servicePrincipalNames"] == [created["appId"]]
    assert created["displayName"] == "ci-pipeline"
    assert created["servicePrincipalType"] == "Application"
    assert created["passwordCredentials"] == []
    path = f"/v1.0/servicePrincipals/{created['id']}"
    end = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)

    added = owner.ok(
        owner.post(
            path + "/addPassword",
            {"passwordCredential": {"displayName": "ci", "endDateTime": end.isoformat()}},
        )
    )

    assert set(added) == {"keyId", "secretText", "hint", "displayName", "startDateTime", "endDateTime"}
    assert added["secretText"].startswith(added["hint"])
    assert added["displayName"] == "ci"
    assert datetime.fromisoformat(added["endDateTime"]) == end
    assert _sp_sign_in(client, created["appId"], added["secretText"]) == 200
    shown = owner.ok(owner.get(path))
    assert shown["passwordCredentials"] == [
        {
            "keyId": added["keyId"],
            "hint": added["hint"],
            "displayName": "ci",
            "startDateTime": added["startDateTime"],
            "endDateTime": added["endDateTime"],
        }
    ]
    assert owner.ok(owner.get(f"/v1.0/servicePrincipals/{created['appId']}"))["id"] == created["id"]

    removed = owner.post(path + "/removePassword", {"keyId": added["keyId"]})

    assert removed.status_code == 204
    assert _sp_sign_in(client, created["appId"], added["secretText"]) == 401
    assert_arm_error(owner.post(path + "/removePassword", {"keyId": added["keyId"]}), 404, "ResourceNotFound")

    assert owner.delete(path).status_code == 204
    assert_arm_error(owner.get(path), 404, "ResourceNotFound")


def test_an_added_password_keeps_the_others(owner: ArmCaller, client: TestClient) -> None:
    sp, first = owner.create_service_principal("two-secrets")

    second = owner.ok(owner.post(f"/v1.0/servicePrincipals/{sp['id']}/addPassword"))["secretText"]

    assert _sp_sign_in(client, sp["appId"], first) == 200
    assert _sp_sign_in(client, sp["appId"], second) == 200


def test_disabling_a_service_principal_stops_its_sign_in(owner: ArmCaller, client: TestClient) -> None:
    sp, secret = owner.create_service_principal("to-disable")

    disabled = owner.ok(owner.patch(f"/v1.0/servicePrincipals/{sp['id']}", {"accountEnabled": False}))

    assert disabled["accountEnabled"] is False
    assert _sp_sign_in(client, sp["appId"], secret) == 400


def test_list_and_filter_service_principals(owner: ArmCaller) -> None:
    sp_a, _ = owner.create_service_principal("alpha-app")
    owner.create_service_principal("beta-app")

    everything = owner.ok(owner.get("/v1.0/servicePrincipals"))["value"]
    by_app_id = owner.ok(
        owner.get("/v1.0/servicePrincipals", params={"$filter": f"appId eq '{sp_a['appId']}'"})
    )
    by_prefix = owner.ok(
        owner.get("/v1.0/servicePrincipals", params={"$filter": "startswith(displayName,'alp')"})
    )

    assert {s["displayName"] for s in everything} == {"alpha-app", "beta-app"}
    assert [s["id"] for s in by_app_id["value"]] == [sp_a["id"]]
    assert [s["id"] for s in by_prefix["value"]] == [sp_a["id"]]


def test_service_principal_requests_are_validated(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("validated")
    path = f"/v1.0/servicePrincipals/{sp['id']}"

    no_name = owner.post("/v1.0/servicePrincipals", {"displayName": ""})
    past = owner.post(path + "/addPassword", {"passwordCredential": {"endDateTime": "2001-01-01T00:00:00Z"}})
    bad_key = owner.post(path + "/removePassword", {"keyId": "nope"})
    not_a_guid = owner.get("/v1.0/servicePrincipals/ci-pipeline")

    assert "displayName" in assert_arm_error(no_name, 400, "InvalidRequestContent")
    assert "passwordCredential.endDateTime" in assert_arm_error(past, 400, "InvalidRequestContent")
    assert "keyId" in assert_arm_error(bad_key, 400, "InvalidRequestContent")
    assert "servicePrincipalId" in assert_arm_error(not_a_guid, 400, "InvalidRequestContent")
