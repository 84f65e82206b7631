"""Repository-scoped tokens: PUT/GET/PATCH/DELETE, generateCredentials, password removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

REGISTRY_HOST = "tokenreg.localhost:5000"


@pytest.fixture
def registry(owner: ArmCaller) -> str:
    owner.create_registry("tokenreg")
    return owner.registry("tokenreg")


def _create(
    owner: ArmCaller, registry: str, name: str, scope_map: str = "_repositories_pull", **extra: Any
) -> Any:
    body = {"properties": {"scopeMapId": f"{registry}/scopeMaps/{scope_map}", **extra}}
    return owner.put(f"{registry}/tokens/{name}", body)


def _generate(owner: ArmCaller, registry: str, token: str, **extra: Any) -> Any:
    return owner.post(f"{registry}/generateCredentials", {"tokenId": f"{registry}/tokens/{token}", **extra})


def test_create_answers_201_with_the_token_json(owner: ArmCaller, registry: str) -> None:
    created = owner.ok(_create(owner, registry, "MyToken"), 201)

    assert created == {
        "id": f"{registry}/tokens/MyToken",
        "name": "MyToken",
        "type": "Microsoft.ContainerRegistry/registries/tokens",
        "properties": {
            "creationDate": created["properties"]["creationDate"],
            "provisioningState": "Succeeded",
            "scopeMapId": f"{registry}/scopeMaps/_repositories_pull",
            "status": "enabled",
            "credentials": {"username": "MyToken", "certificates": [], "passwords": []},
        },
    }
    assert owner.ok(owner.get(f"{registry}/tokens/MyToken")) == created
    assert owner.ok(owner.get(f"{registry}/tokens")) == {"value": [created]}


def test_put_again_replaces_with_200(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)

    replaced = owner.ok(_create(owner, registry, "MyToken", "_repositories_push", status="disabled"), 200)

    assert replaced["properties"]["scopeMapId"].endswith("/scopeMaps/_repositories_push")
    assert replaced["properties"]["status"] == "disabled"


def test_generate_both_passwords_then_only_names_and_times_are_shown(
    owner: ArmCaller, registry: str, client: TestClient
) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)

    generated = owner.ok(_generate(owner, registry, "MyToken"))

    assert generated["username"] == "MyToken"
    assert [p["name"] for p in generated["passwords"]] == ["password1", "password2"]
    for password in generated["passwords"]:
        assert set(password) == {"name", "value", "creationTime", "expiry"}
        assert password["value"]
        assert password["expiry"] is None
    shown = owner.ok(owner.get(f"{registry}/tokens/MyToken"))["properties"]["credentials"]["passwords"]
    assert [set(p) for p in shown] == [{"name", "creationTime", "expiry"}] * 2
    value = generated["passwords"][0]["value"]
    assert client.get("/v2/", headers={"Host": REGISTRY_HOST}, auth=("MyToken", value)).status_code == 200


def test_generate_one_password_with_an_expiry(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)
    expiry = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)

    generated = owner.ok(
        _generate(
            owner, registry, "MyToken", name="password2", expiry=expiry.isoformat().replace("+00:00", "Z")
        )
    )

    assert [p["name"] for p in generated["passwords"]] == ["password2"]
    assert datetime.fromisoformat(generated["passwords"][0]["expiry"]) == expiry


def test_generate_refuses_a_past_expiry_and_an_unknown_token(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)

    past = _generate(owner, registry, "MyToken", expiry="2001-01-01T00:00:00Z")
    unknown = _generate(owner, registry, "NoSuchToken")
    elsewhere = owner.post(
        f"{registry}/generateCredentials", {"tokenId": owner.registry("otherreg") + "/tokens/MyToken"}
    )

    assert "expiry" in assert_arm_error(past, 400, "InvalidRequestContent")
    assert_arm_error(unknown, 404, "ResourceNotFound")
    assert "tokenId" in assert_arm_error(elsewhere, 400, "InvalidParameter")


def test_patch_status_and_scope_map(owner: ArmCaller, registry: str, client: TestClient) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)
    value = owner.ok(_generate(owner, registry, "MyToken", name="password1"))["passwords"][0]["value"]

    disabled = owner.ok(owner.patch(f"{registry}/tokens/MyToken", {"properties": {"status": "disabled"}}))
    moved = owner.ok(
        owner.patch(
            f"{registry}/tokens/MyToken",
            {"properties": {"scopeMapId": f"{registry}/scopeMaps/_repositories_admin"}},
        )
    )

    assert disabled["properties"]["status"] == "disabled"
    assert disabled["properties"]["scopeMapId"].endswith("/_repositories_pull")
    assert moved["properties"]["status"] == "disabled"
    assert moved["properties"]["scopeMapId"].endswith("/_repositories_admin")
    assert client.get("/v2/", headers={"Host": REGISTRY_HOST}, auth=("MyToken", value)).status_code == 401


def test_patch_credentials_keeps_only_the_listed_passwords(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)
    owner.ok(_generate(owner, registry, "MyToken"))

    kept = owner.ok(
        owner.patch(
            f"{registry}/tokens/MyToken",
            {"properties": {"credentials": {"passwords": [{"name": "password2"}]}}},
        )
    )

    assert [p["name"] for p in kept["properties"]["credentials"]["passwords"]] == ["password2"]


def test_delete_one_password(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)
    owner.ok(_generate(owner, registry, "MyToken"))
    path = f"{registry}/tokens/MyToken/passwords/password1"

    after = owner.ok(owner.delete(path))

    assert [p["name"] for p in after["properties"]["credentials"]["passwords"]] == ["password2"]
    assert_arm_error(owner.delete(path), 404, "ResourceNotFound")
    assert "passwordName" in assert_arm_error(
        owner.delete(f"{registry}/tokens/MyToken/passwords/password3"), 400, "InvalidRequestContent"
    )


def test_delete_answers_200_then_204(owner: ArmCaller, registry: str) -> None:
    owner.ok(_create(owner, registry, "MyToken"), 201)

    assert owner.delete(f"{registry}/tokens/MyToken").status_code == 200
    assert owner.delete(f"{registry}/tokens/MyToken").status_code == 204
    assert_arm_error(owner.get(f"{registry}/tokens/MyToken"), 404, "ResourceNotFound")


def test_scope_map_id_must_be_one_of_this_registry(owner: ArmCaller, registry: str) -> None:
    missing = owner.put(f"{registry}/tokens/MyToken", {"properties": {"status": "enabled"}})
    foreign = owner.put(
        f"{registry}/tokens/MyToken",
        {"properties": {"scopeMapId": owner.registry("otherreg") + "/scopeMaps/_repositories_pull"}},
    )
    unknown = _create(owner, registry, "MyToken", "no-such-map")
    bare_name = owner.put(f"{registry}/tokens/MyToken", {"properties": {"scopeMapId": "_repositories_pull"}})

    assert "properties.scopeMapId" in assert_arm_error(missing, 400, "InvalidParameter")
    assert "properties.scopeMapId" in assert_arm_error(foreign, 400, "InvalidParameter")
    assert_arm_error(unknown, 404, "ResourceNotFound")
    assert owner.ok(bare_name, 201)["properties"]["scopeMapId"] == f"{registry}/scopeMaps/_repositories_pull"


def test_token_names_follow_acr(owner: ArmCaller, registry: str) -> None:
    response = _create(owner, registry, "bad_name!")

    assert "tokenName" in assert_arm_error(response, 400, "InvalidRequestContent")
