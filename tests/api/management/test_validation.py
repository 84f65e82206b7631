"""Bad requests answer 400 with ARM's envelope, and the message and target name the bad field."""

from __future__ import annotations

import pytest

from tests.api.management.arm import ArmCaller, assert_arm_error


def _target(response: object) -> str:
    target: str = response.json()["error"]["target"]  # type: ignore[attr-defined]
    return target


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"properties": {"adminUserEnabled": "maybe"}}, "properties.adminUserEnabled"),
        ({"properties": {"publicNetworkAccess": "Sometimes"}}, "properties.publicNetworkAccess"),
        ({"sku": {"name": "Gold"}}, "sku.name"),
        ({"tags": {"k": 5}}, "tags.k"),
        ({"tags": "a"}, "tags"),
        ({"properties": {"networkRuleSet": {"ipRules": "all"}}}, "properties.networkRuleSet.ipRules"),
        (
            {"properties": {"networkRuleSet": {"ipRules": [{"value": "1.2.3.4", "action": "Deny"}]}}},
            "properties.networkRuleSet.ipRules[0].action",
        ),
        ({"location": ""}, "location"),
    ],
)
def test_registry_bodies_name_the_bad_field(owner: ArmCaller, body: dict[str, object], field: str) -> None:
    response = owner.put(owner.registry("validated"), body)

    message = assert_arm_error(response, 400, "InvalidRequestContent")
    assert f"'{field}'" in message
    assert _target(response) == field


def test_invalid_json_is_400(owner: ArmCaller) -> None:
    response = owner.request(
        "PUT",
        owner.registry("validated"),
        content=b'{"location": ',
        headers={"Content-Type": "application/json"},
    )

    assert "not valid JSON" in assert_arm_error(response, 400, "InvalidRequestContent")


def test_a_missing_body_is_400(owner: ArmCaller) -> None:
    owner.create_registry("validated")

    response = owner.request("POST", owner.registry("validated") + "/regenerateCredential")

    assert "body" in assert_arm_error(response, 400, "InvalidRequestContent")


def test_a_body_that_is_not_an_object_is_400(owner: ArmCaller) -> None:
    response = owner.put(owner.registry("validated"), [1, 2])

    assert_arm_error(response, 400, "InvalidRequestContent")


@pytest.mark.parametrize(
    ("name", "ok"),
    [("abcd", False), ("a" * 51, False), ("has-dash", False), ("has_underscore", False), ("abcde", True)],
)
def test_registry_names_follow_acr(owner: ArmCaller, name: str, ok: bool) -> None:
    response = owner.put(owner.registry(name), {})

    if ok:
        assert response.status_code == 201
    else:
        message = assert_arm_error(response, 400, "InvalidRequestContent")
        assert "registryName" in message
        assert "alpha numeric" in message


def test_resource_group_names_are_checked(owner: ArmCaller) -> None:
    response = owner.put(owner.registry("validated", "ends-with-dot."), {})

    assert "resourceGroupName" in assert_arm_error(response, 400, "InvalidRequestContent")


def test_nul_characters_are_refused(owner: ArmCaller) -> None:
    in_path = owner.get("/v1.0/users/a%00b@localhost")
    in_body = owner.put(owner.registry("validated"), {"tags": {"k": "a\u0000b"}})

    assert_arm_error(in_path, 400, "InvalidParameter")
    assert "tags.k" in assert_arm_error(in_body, 400, "InvalidRequestContent")


def test_enumerations_accept_any_letter_case(owner: ArmCaller) -> None:
    created = owner.ok(
        owner.put(
            owner.registry("validated"),
            {"sku": {"name": "basic"}, "properties": {"publicNetworkAccess": "ENABLED"}},
        ),
        201,
    )

    assert created["sku"]["name"] == "Basic"
    assert created["properties"]["publicNetworkAccess"] == "Enabled"


def test_unknown_fields_are_ignored(owner: ArmCaller) -> None:
    created = owner.create_registry("validated")

    echoed = owner.put(owner.registry("validated"), created)

    assert owner.ok(echoed)["properties"] == created["properties"]
