"""What az asks first: cloud metadata, tenants, the subscription, and the resources list."""

from __future__ import annotations

from collections.abc import Callable

from berth.app import BerthApp
from tests.api.management.arm import SERVICE_URL, ArmCaller, TestClient, assert_arm_error

REGISTRIES = "Microsoft.ContainerRegistry/registries"


def test_cloud_metadata_is_arms_document_without_sign_in(client: TestClient) -> None:
    answer = client.get("/metadata/endpoints", params={"api-version": "2022-09-01"})
    doubled = client.get(f"{SERVICE_URL}//metadata/endpoints", params={"api-version": "2022-09-01"})

    assert answer.status_code == 200
    cloud = answer.json()
    assert doubled.json() == cloud
    assert cloud["name"] == "berth"
    assert cloud["resourceManager"] == f"{SERVICE_URL}/"
    assert cloud["authentication"]["loginEndpoint"] == SERVICE_URL
    assert cloud["authentication"]["audiences"][0] == "https://management.azure.com"
    assert cloud["microsoftGraphResourceId"] == f"{SERVICE_URL}/"
    assert cloud["suffixes"]["acrLoginServer"] == "localhost:5000"
    assert cloud["gallery"] == ""


def test_tenants_lists_the_one_tenant(owner: ArmCaller, app: BerthApp) -> None:
    app_tenant = app.services.tenancy.tenant_id
    [tenant] = owner.ok(owner.get("/tenants"))["value"]

    assert tenant["tenantId"] == app_tenant
    assert tenant["id"] == f"/tenants/{app_tenant}"
    assert tenant["tenantCategory"] == "Home"
    assert tenant["defaultDomain"] == "localhost"


def test_subscriptions_carry_managed_by_tenants(owner: ArmCaller) -> None:
    [subscription] = owner.ok(owner.get("/subscriptions"))["value"]

    assert subscription["managedByTenants"] == []


def test_resources_lists_registries_filtered_by_type_and_name(owner: ArmCaller) -> None:
    owner.create_registry("alpha1", "rg1")
    owner.create_registry("beta22", "rg2")
    by_type = {"$filter": f"resourceType eq '{REGISTRIES}'"}

    everything = owner.ok(owner.get(f"{owner.subscription}/resources", params=by_type))["value"]
    in_rg2 = owner.ok(owner.get(f"{owner.group('rg2')}/resources", params=by_type))["value"]
    named = owner.ok(
        owner.get(
            f"{owner.subscription}/resources",
            params={"$filter": f"resourceType eq '{REGISTRIES}' and name eq 'ALPHA1'"},
        )
    )["value"]
    other_type = owner.ok(
        owner.get(
            f"{owner.subscription}/resources",
            params={"$filter": "resourceType eq 'Microsoft.Compute/virtualMachines'"},
        )
    )["value"]

    assert {r["name"] for r in everything} >= {"alpha1", "beta22"}
    alpha = next(r for r in everything if r["name"] == "alpha1")
    assert alpha["id"] == owner.registry("alpha1", "rg1")
    assert alpha["type"] == REGISTRIES
    assert alpha["sku"] == {"name": "Premium", "tier": "Premium"}
    assert [r["name"] for r in in_rg2] == ["beta22"]
    assert [r["name"] for r in named] == ["alpha1"]
    assert other_type == []


def test_resources_show_only_what_the_caller_may_read(
    owner: ArmCaller, principal: Callable[..., ArmCaller]
) -> None:
    owner.create_registry("seen1", "rg1")
    owner.create_registry("hidden1", "rg1")
    reader = principal("Reader", owner.registry("seen1", "rg1"))
    puller = principal("AcrPull", owner.registry("hidden1", "rg1"), name="puller")

    seen = reader.ok(reader.get(f"{owner.subscription}/resources"))["value"]
    pulled = puller.ok(puller.get(f"{owner.subscription}/resources"))["value"]

    assert [r["name"] for r in seen] == ["seen1"]
    assert pulled == []


def test_resources_refuse_an_unknown_filter_and_subscription(owner: ArmCaller) -> None:
    bad = owner.get(f"{owner.subscription}/resources", params={"$filter": "location eq 'x'"})
    other = owner.get("/subscriptions/00000000-0000-0000-0000-000000000000/resources")

    assert_arm_error(bad, 400, "InvalidParameter")
    assert_arm_error(other, 404, "SubscriptionNotFound")


def test_resource_groups_exist_once_named_in_either_spelling(owner: ArmCaller) -> None:
    upper = owner.ok(owner.get(owner.group("teamA")))
    lower = owner.ok(owner.get(f"{owner.subscription}/resourcegroups/teamA"))
    created = owner.ok(owner.put(f"{owner.subscription}/resourcegroups/teamB", {"location": "local"}))

    assert upper == lower
    assert upper["id"] == owner.group("teamA")
    assert upper["properties"] == {"provisioningState": "Succeeded"}
    assert created["name"] == "teamB"
    assert_arm_error(
        owner.get(f"{owner.subscription}/resourcegroups/bad.group."), 400, "InvalidRequestContent"
    )
