"""Registries as ARM resources: the subscription, create/replace, read, list, update, delete, names."""

from __future__ import annotations

import re

from berth.app import BerthApp
from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def test_the_one_subscription_is_listed(owner: ArmCaller, app: BerthApp) -> None:
    body = owner.ok(owner.get("/subscriptions"))

    tenancy = app.services.tenancy
    assert body == {
        "value": [
            {
                "id": f"/subscriptions/{tenancy.subscription_id}",
                "subscriptionId": tenancy.subscription_id,
                "tenantId": tenancy.tenant_id,
                "displayName": "berth",
                "state": "Enabled",
                "managedByTenants": [],
            }
        ]
    }


def test_create_answers_201_with_the_registry_json(owner: ArmCaller) -> None:
    response = owner.put(
        owner.registry("myRegistry"),
        {"location": "local", "sku": {"name": "Premium"}, "tags": {"team": "a"}},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {
        "id": owner.registry("myRegistry"),
        "name": "myRegistry",
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "local",
        "tags": {"team": "a"},
        "sku": {"name": "Premium", "tier": "Premium"},
        "properties": {
            "loginServer": "myregistry.localhost:5000",
            "creationDate": body["properties"]["creationDate"],
            "provisioningState": "Succeeded",
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
            "dataEndpointEnabled": False,
            "storageQuota": None,
            "storageQuotaSource": "Default",
        },
    }
    assert ISO.match(body["properties"]["creationDate"])


def test_create_takes_the_properties_given(owner: ArmCaller) -> None:
    body = owner.create_registry(
        "withprops",
        adminUserEnabled=True,
        anonymousPullEnabled=True,
        publicNetworkAccess="Disabled",
        networkRuleSet={"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "203.0.113.7"}]},
    )

    properties = body["properties"]
    assert properties["adminUserEnabled"] is True
    assert properties["anonymousPullEnabled"] is True
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["networkRuleSet"] == {
        "defaultAction": "Deny",
        "ipRules": [{"action": "Allow", "value": "203.0.113.7"}],
    }


def test_a_minimal_put_creates_a_premium_registry_in_location_local(owner: ArmCaller) -> None:
    body = owner.ok(owner.put(owner.registry("minimal"), {}), 201)

    assert body["location"] == "local"
    assert body["sku"] == {"name": "Premium", "tier": "Premium"}


def test_put_on_an_existing_registry_replaces_it_with_200(owner: ArmCaller) -> None:
    owner.create_registry("replaced", adminUserEnabled=True, anonymousPullEnabled=True)

    response = owner.put(
        owner.registry("replaced"), {"tags": {"a": "b"}, "properties": {"adminUserEnabled": True}}
    )

    body = owner.ok(response, 200)
    assert body["tags"] == {"a": "b"}
    assert body["properties"]["adminUserEnabled"] is True
    assert body["properties"]["anonymousPullEnabled"] is False  # replaced: back to the default


def test_get_answers_what_create_answered(owner: ArmCaller) -> None:
    created = owner.create_registry("readme")

    assert owner.ok(owner.get(owner.registry("readme"))) == created


def test_registry_paths_accept_any_letter_case_of_the_name(owner: ArmCaller) -> None:
    owner.create_registry("MixedCase")

    body = owner.ok(owner.get(owner.registry("mixedcase")))

    assert body["name"] == "MixedCase"
    assert body["properties"]["loginServer"] == "mixedcase.localhost:5000"


def test_get_of_a_missing_registry_is_404_resource_not_found(owner: ArmCaller) -> None:
    message = assert_arm_error(owner.get(owner.registry("nothere")), 404, "ResourceNotFound")

    assert "nothere" in message


def test_a_registry_is_found_only_in_its_resource_group(owner: ArmCaller) -> None:
    owner.create_registry("grouped", resource_group="teamA")

    assert_arm_error(owner.get(owner.registry("grouped", "teamB")), 404, "ResourceNotFound")
    assert owner.get(owner.registry("grouped", "teamA")).status_code == 200


def test_a_name_in_use_in_another_group_is_409_already_in_use(owner: ArmCaller) -> None:
    owner.create_registry("taken", resource_group="teamA")

    response = owner.put(owner.registry("taken", "teamB"), {})

    assert_arm_error(response, 409, "AlreadyInUse")


def test_list_in_the_subscription_and_in_a_resource_group(owner: ArmCaller) -> None:
    owner.create_registry("alpha1", resource_group="teamA")
    owner.create_registry("beta1", resource_group="teamB")

    everything = owner.ok(owner.get(f"{owner.subscription}/providers/Microsoft.ContainerRegistry/registries"))
    in_a = owner.ok(owner.get(f"{owner.group('teamA')}/providers/Microsoft.ContainerRegistry/registries"))
    in_empty = owner.ok(
        owner.get(f"{owner.group('nothing')}/providers/Microsoft.ContainerRegistry/registries")
    )

    names = {r["name"] for r in everything["value"]}
    assert {"alpha1", "beta1", "default"} <= names
    assert [r["name"] for r in in_a["value"]] == ["alpha1"]
    assert in_empty == {"value": []}


def test_the_default_registry_is_listed_with_the_bare_login_server(owner: ArmCaller) -> None:
    everything = owner.ok(owner.get(f"{owner.subscription}/providers/Microsoft.ContainerRegistry/registries"))

    default = next(r for r in everything["value"] if r["name"] == "default")
    assert default["properties"]["loginServer"] == "localhost:5000"


def test_patch_changes_only_what_it_names(owner: ArmCaller) -> None:
    owner.create_registry("patchme", anonymousPullEnabled=True)

    body = owner.ok(owner.patch(owner.registry("patchme"), {"properties": {"adminUserEnabled": True}}))

    assert body["properties"]["adminUserEnabled"] is True
    assert body["properties"]["anonymousPullEnabled"] is True


def test_patch_tags_sku_and_public_network_access(owner: ArmCaller) -> None:
    owner.create_registry("patchall")

    body = owner.ok(
        owner.patch(
            owner.registry("patchall"),
            {
                "tags": {"env": "prod"},
                "sku": {"name": "standard"},
                "properties": {"publicNetworkAccess": "disabled"},
            },
        )
    )

    assert body["tags"] == {"env": "prod"}
    assert body["sku"] == {"name": "Standard", "tier": "Standard"}
    assert body["properties"]["publicNetworkAccess"] == "Disabled"


def test_patch_network_rule_set_keeps_the_rules_when_only_the_default_action_changes(
    owner: ArmCaller,
) -> None:
    owner.create_registry("netrules")
    path = owner.registry("netrules")

    owner.ok(
        owner.patch(
            path,
            {
                "properties": {
                    "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.0/24"}]}
                }
            },
        )
    )
    body = owner.ok(owner.patch(path, {"properties": {"networkRuleSet": {"defaultAction": "Allow"}}}))

    assert body["properties"]["networkRuleSet"] == {
        "defaultAction": "Allow",
        "ipRules": [{"action": "Allow", "value": "198.51.100.0/24"}],
    }


def test_an_empty_patch_changes_nothing(owner: ArmCaller) -> None:
    created = owner.create_registry("unchanged")

    assert owner.ok(owner.patch(owner.registry("unchanged"), {})) == created


def test_patch_of_a_missing_registry_is_404(owner: ArmCaller) -> None:
    assert_arm_error(owner.patch(owner.registry("absent1"), {"tags": {}}), 404, "ResourceNotFound")


def test_delete_answers_200_then_204(owner: ArmCaller) -> None:
    owner.create_registry("doomed")

    first = owner.delete(owner.registry("doomed"))
    second = owner.delete(owner.registry("doomed"))

    assert first.status_code == 200
    assert second.status_code == 204
    assert_arm_error(owner.get(owner.registry("doomed")), 404, "ResourceNotFound")


def test_the_default_registry_cannot_be_deleted(owner: ArmCaller) -> None:
    assert_arm_error(owner.delete(owner.registry("default", "default")), 409, "OperationNotAllowed")


def test_check_name_availability(owner: ArmCaller) -> None:
    owner.create_registry("takenName")
    path = f"{owner.subscription}/providers/Microsoft.ContainerRegistry/checkNameAvailability"

    free = owner.ok(owner.post(path, {"name": "freename", "type": "Microsoft.ContainerRegistry/registries"}))
    taken = owner.ok(
        owner.post(path, {"name": "takenname", "type": "Microsoft.ContainerRegistry/registries"})
    )
    invalid = owner.ok(
        owner.post(path, {"name": "no-dashes", "type": "Microsoft.ContainerRegistry/registries"})
    )

    assert free == {"nameAvailable": True, "reason": None, "message": None}
    assert taken == {
        "nameAvailable": False,
        "reason": "AlreadyExists",
        "message": "The registry takenname is already in use.",
    }
    assert invalid["nameAvailable"] is False
    assert invalid["reason"] == "Invalid"


def test_a_wrong_subscription_is_404_subscription_not_found(owner: ArmCaller) -> None:
    path = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg1/providers/"
    response = owner.get(path + "Microsoft.ContainerRegistry/registries/abcdef")

    message = assert_arm_error(response, 404, "SubscriptionNotFound")
    assert "00000000-1111-2222-3333-444444444444" in message


def test_api_version_is_optional_and_any_value_is_accepted(owner: ArmCaller, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {owner.token}"}

    without = client.get("/subscriptions", headers=headers)
    odd = client.get("/subscriptions", headers=headers, params={"api-version": "1999-01-01-preview"})

    assert without.status_code == 200
    assert odd.status_code == 200
