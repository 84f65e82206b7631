"""Network rules set through the management API take effect on the registry's data plane."""

from __future__ import annotations

from typing import Any

from berth.app import BerthApp
from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

LOGIN_SERVER = "http://fenced.localhost:5000"
DENIED_IP = "203.0.113.9"
ALLOWED_IP = "198.51.100.7"


def _v2_from(app: BerthApp, ip: str) -> tuple[int, Any]:
    with TestClient(app, base_url=LOGIN_SERVER, client=(ip, 40000)) as data_client:
        response = data_client.get("/v2/")
        return response.status_code, response.json()


def test_a_denied_ip_gets_403_after_patching_the_rule_set(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("fenced")
    assert _v2_from(app, DENIED_IP)[0] == 401  # open: asks for credentials

    owner.ok(
        owner.patch(
            owner.registry("fenced"),
            {
                "properties": {
                    "networkRuleSet": {
                        "defaultAction": "Deny",
                        "ipRules": [{"action": "Allow", "value": "198.51.100.0/24"}],
                    }
                }
            },
        )
    )
    denied_status, denied_body = _v2_from(app, DENIED_IP)
    allowed_status, _ = _v2_from(app, ALLOWED_IP)

    assert denied_status == 403
    [error] = denied_body["errors"]
    assert error["code"] == "DENIED"
    assert error["message"] == (
        f"client with IP '{DENIED_IP}' is not allowed access. "
        "Refer https://aka.ms/acr/firewall to grant access."
    )
    assert allowed_status == 401


def test_disabling_public_network_access_denies_every_ip(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("fenced")

    owner.ok(owner.patch(owner.registry("fenced"), {"properties": {"publicNetworkAccess": "Disabled"}}))

    assert _v2_from(app, ALLOWED_IP)[0] == 403


def test_allowing_again_reopens_the_registry(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("fenced", networkRuleSet={"defaultAction": "Deny", "ipRules": []})
    assert _v2_from(app, DENIED_IP)[0] == 403

    owner.ok(
        owner.patch(owner.registry("fenced"), {"properties": {"networkRuleSet": {"defaultAction": "Allow"}}})
    )

    assert _v2_from(app, DENIED_IP)[0] == 401


def test_ip_rules_are_validated_and_normalized(owner: ArmCaller) -> None:
    owner.create_registry("fenced")
    path = owner.registry("fenced")

    not_an_ip = owner.patch(path, {"properties": {"networkRuleSet": {"ipRules": [{"value": "10.0.0.300"}]}}})
    ipv6 = owner.patch(path, {"properties": {"networkRuleSet": {"ipRules": [{"value": "2001:db8::1"}]}}})
    bad_action = owner.patch(path, {"properties": {"networkRuleSet": {"defaultAction": "Maybe"}}})
    normalized = owner.ok(
        owner.patch(
            path,
            {"properties": {"networkRuleSet": {"ipRules": [{"value": "192.0.2.1"}, {"value": "192.0.2.1"}]}}},
        )
    )

    message = assert_arm_error(not_an_ip, 400, "InvalidRequestContent")
    assert "properties.networkRuleSet.ipRules[0].value" in message
    assert "10.0.0.300" in message
    assert_arm_error(ipv6, 400, "InvalidRequestContent")
    assert "properties.networkRuleSet.defaultAction" in assert_arm_error(
        bad_action, 400, "InvalidRequestContent"
    )
    assert normalized["properties"]["networkRuleSet"]["ipRules"] == [
        {"action": "Allow", "value": "192.0.2.1"}
    ]
