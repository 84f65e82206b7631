"""The subscription and its registries: list, create/replace, read, update, delete, name checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from berth.management.api.deps import (
    COMMON,
    ERRORS,
    REGISTRY,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    Api,
    ApiDep,
    GroupDep,
    RegistryDep,
    SubscriptionDep,
)
from berth.management.api.fields import iso
from berth.management.api.models import (
    IpRule,
    ListOf,
    NameAvailability,
    NameAvailabilityRequest,
    NetworkRuleSet,
    Registry,
    RegistryCreate,
    RegistryProperties,
    RegistryPropertiesInput,
    RegistryUpdate,
    Sku,
    Subscription,
)
from berth.management.authz import READ, WRITE
from berth.metadata import registries as registry_rows
from berth.metadata.registries import RegistryRecord
from berth.tenancy import PROVIDER

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Registries"])

REGISTRY_TYPE = f"{PROVIDER}/registries"
CREATED: dict[int | str, dict[str, Any]] = {201: {"model": Registry, "description": "Created"}}


def registry_view(api: Api, record: RegistryRecord) -> Registry:
    admin = api.management.registries
    quota = admin.storage_quota(record)
    return Registry(
        id=api.tenancy.registry_id(record),
        name=record.name,
        type=REGISTRY_TYPE,
        location=record.location,
        tags=dict(record.tags),
        sku=Sku(name=record.sku, tier=record.sku),
        properties=RegistryProperties(
            login_server=admin.login_server(record),
            creation_date=iso(record.created_at),
            provisioning_state="Succeeded",
            admin_user_enabled=record.admin_enabled,
            anonymous_pull_enabled=record.anonymous_pull_enabled,
            public_network_access="Enabled" if record.public_network_enabled else "Disabled",
            network_rule_bypass_options="AzureServices",
            network_rule_set=NetworkRuleSet(
                default_action=record.network_default_action,
                ip_rules=[IpRule(action="Allow", value=rule.value) for rule in record.ip_rules],
            ),
            data_endpoint_enabled=False,
            storage_quota=quota.limit,
            storage_quota_source="Default" if quota.from_default else "Registry",
        ),
    )


def _changes(properties: RegistryPropertiesInput, current: RegistryRecord | None) -> dict[str, Any]:
    """Domain keyword arguments for what ``properties`` sets; with no ``current``, defaults fill in."""
    changes: dict[str, Any] = {}
    defaults = current is None
    if properties.admin_user_enabled is not None or defaults:
        changes["admin_enabled"] = bool(properties.admin_user_enabled)
    if properties.anonymous_pull_enabled is not None or defaults:
        changes["anonymous_pull_enabled"] = bool(properties.anonymous_pull_enabled)
    if properties.public_network_access is not None or defaults:
        changes["public_network_enabled"] = properties.public_network_access != "Disabled"
    rules = properties.network_rule_set
    if rules is not None and rules.default_action is not None:
        changes["network_default_action"] = rules.default_action
    elif defaults:
        changes["network_default_action"] = "Allow"
    if rules is not None and rules.ip_rules is not None:
        changes["ip_rules"] = [registry_rows.IpRule(rule.value) for rule in rules.ip_rules]
    elif defaults:
        changes["ip_rules"] = []
    if properties.storage_quota is not None:
        changes["storage_quota"] = properties.storage_quota
    return changes


@router.get("/subscriptions", response_model=ListOf[Subscription], operation_id="Subscriptions_List")
async def list_subscriptions(api: ApiDep) -> ListOf[Subscription]:
    """The one subscription this service is."""
    tenancy = api.tenancy
    subscription = Subscription(
        id=tenancy.subscription_scope,
        subscription_id=tenancy.subscription_id,
        tenant_id=tenancy.tenant_id,
        display_name="berth",
        state="Enabled",
    )
    return ListOf[Subscription](value=[subscription])


@router.get(
    SUBSCRIPTION + f"/providers/{PROVIDER}/registries",
    response_model=ListOf[Registry],
    operation_id="Registries_List",
)
async def list_registries(scope: SubscriptionDep) -> ListOf[Registry]:
    """Every registry of the subscription that the caller may read."""
    return await _readable(scope.api, None)


@router.get(
    RESOURCE_GROUP + f"/providers/{PROVIDER}/registries",
    response_model=ListOf[Registry],
    operation_id="Registries_ListByResourceGroup",
)
async def list_registries_in_group(scope: GroupDep) -> ListOf[Registry]:
    """The registries of a resource group that the caller may read."""
    return await _readable(scope.api, scope.resource_group)


async def _readable(api: Api, resource_group: str | None) -> ListOf[Registry]:
    records = await api.management.registries.list_registries(resource_group)
    return ListOf[Registry](
        value=[registry_view(api, r) for r in records if api.caller.can(READ, api.tenancy.registry_id(r))]
    )


@router.put(REGISTRY, response_model=Registry, responses=CREATED, operation_id="Registries_Create")
async def put_registry(scope: RegistryDep, body: RegistryCreate, response: Response) -> Registry:
    """Create a registry (201), or replace the settings of an existing one (200)."""
    scope.require(WRITE, f"{REGISTRY_TYPE}/write")
    admin = scope.api.management.registries
    current = await scope.registry_or_none()
    changes = _changes(body.properties or RegistryPropertiesInput(), None)
    changes["tags"] = dict(body.tags or {})
    changes["sku"] = body.sku.name if body.sku else "Premium"
    if current is None:
        assert scope.registry_name is not None
        assert scope.resource_group is not None
        record = await admin.create(
            scope.registry_name, scope.resource_group, location=body.location, **changes
        )
        response.status_code = 201
    else:
        record = await admin.update(current, **changes)
    return registry_view(scope.api, record)


@router.get(REGISTRY, response_model=Registry, operation_id="Registries_Get")
async def get_registry(scope: RegistryDep) -> Registry:
    return registry_view(scope.api, await scope.authorized_registry(READ, f"{REGISTRY_TYPE}/read"))


@router.patch(REGISTRY, response_model=Registry, operation_id="Registries_Update")
async def update_registry(scope: RegistryDep, body: RegistryUpdate) -> Registry:
    """Change what the body names: tags, sku, admin user, anonymous pull, network access and rules,
    and the storage quota."""
    current = await scope.authorized_registry(WRITE, f"{REGISTRY_TYPE}/write")
    changes = _changes(body.properties or RegistryPropertiesInput(), current)
    if body.tags is not None:
        changes["tags"] = dict(body.tags)
    if body.sku is not None:
        changes["sku"] = body.sku.name
    record = await scope.api.management.registries.update(current, **changes) if changes else current
    return registry_view(scope.api, record)


@router.delete(
    REGISTRY,
    status_code=200,
    responses={200: {"description": "Deleted"}, 204: {"description": "There was no such registry"}},
    response_class=Response,
    operation_id="Registries_Delete",
)
async def delete_registry(scope: RegistryDep) -> Response:
    """Delete a registry with its content, credentials and role assignments (204 if absent)."""
    scope.require(WRITE, f"{REGISTRY_TYPE}/delete")
    record = await scope.registry_or_none()
    if record is None:
        return Response(status_code=204)
    await scope.api.management.registries.delete(record)
    return Response(status_code=200)


@router.post(
    SUBSCRIPTION + f"/providers/{PROVIDER}/checkNameAvailability",
    response_model=NameAvailability,
    operation_id="Registries_CheckNameAvailability",
)
async def check_name_availability(scope: SubscriptionDep, body: NameAvailabilityRequest) -> NameAvailability:
    """Whether a registry name is valid and free (any signed-in caller may ask)."""
    answer = await scope.api.management.registries.check_name(body.name)
    return NameAvailability.model_validate(answer)
