"""The admin user's credentials: listCredentials and regenerateCredential, and what they unlock."""

from __future__ import annotations

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

REGISTRY_HOST = "adminreg.localhost:5000"


def _v2(client: TestClient, username: str, password: str) -> int:
    status: int = client.get("/v2/", headers={"Host": REGISTRY_HOST}, auth=(username, password)).status_code
    return status


def test_list_credentials_needs_the_admin_user_enabled(owner: ArmCaller) -> None:
    owner.create_registry("adminreg")

    message = assert_arm_error(
        owner.post(owner.registry("adminreg") + "/listCredentials"), 400, "AdminUserDisabled"
    )

    assert "--admin-enabled true" in message


def test_values_appear_once_then_null(owner: ArmCaller, client: TestClient) -> None:
    owner.create_registry("adminreg", adminUserEnabled=True)
    path = owner.registry("adminreg") + "/listCredentials"

    first = owner.ok(owner.post(path))
    second = owner.ok(owner.post(path))

    assert first["username"] == "adminreg"
    assert [p["name"] for p in first["passwords"]] == ["password", "password2"]
    values = [p["value"] for p in first["passwords"]]
    assert all(isinstance(v, str) and len(v) >= 32 for v in values)
    assert values[0] != values[1]
    assert second == {
        "username": "adminreg",
        "passwords": [{"name": "password", "value": None}, {"name": "password2", "value": None}],
    }
    assert _v2(client, "adminreg", values[0]) == 200
    assert _v2(client, "adminreg", values[1]) == 200


def test_regenerate_replaces_one_password(owner: ArmCaller, client: TestClient) -> None:
    owner.create_registry("adminreg", adminUserEnabled=True)
    registry = owner.registry("adminreg")
    old = owner.ok(owner.post(registry + "/listCredentials"))["passwords"]

    renewed = owner.ok(owner.post(registry + "/regenerateCredential", {"name": "password2"}))

    assert renewed["username"] == "adminreg"
    assert renewed["passwords"][0] == {"name": "password", "value": None}
    new_value = renewed["passwords"][1]["value"]
    assert renewed["passwords"][1]["name"] == "password2"
    assert new_value
    assert new_value != old[1]["value"]
    assert _v2(client, "adminreg", new_value) == 200
    assert _v2(client, "adminreg", old[1]["value"]) == 401
    assert _v2(client, "adminreg", old[0]["value"]) == 200


def test_regenerate_names_the_bad_password_name(owner: ArmCaller) -> None:
    owner.create_registry("adminreg", adminUserEnabled=True)

    response = owner.post(owner.registry("adminreg") + "/regenerateCredential", {"name": "password3"})

    message = assert_arm_error(response, 400, "InvalidRequestContent")
    assert "'name'" in message
    assert response.json()["error"]["target"] == "name"


def test_credentials_of_a_missing_registry_are_404(owner: ArmCaller) -> None:
    assert_arm_error(owner.post(owner.registry("missing1") + "/listCredentials"), 404, "ResourceNotFound")


def test_disabling_the_admin_user_stops_its_passwords(owner: ArmCaller, client: TestClient) -> None:
    owner.create_registry("adminreg", adminUserEnabled=True)
    value = owner.ok(owner.post(owner.registry("adminreg") + "/listCredentials"))["passwords"][0]["value"]

    owner.ok(owner.patch(owner.registry("adminreg"), {"properties": {"adminUserEnabled": False}}))

    assert _v2(client, "adminreg", value) == 401
