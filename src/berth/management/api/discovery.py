"""What ARM clients ask before anything else: the cloud's endpoints, the tenants, the resources.

- ``GET /metadata/endpoints`` (no authentication, as in Azure): ARM's cloud metadata, so
  ``az cloud register -n berth --endpoint-resource-manager https://<berth>/`` needs no other flag.
  az appends ``/metadata/endpoints`` to the address as typed, so ``https://<berth>//metadata/
  endpoints`` (the double slash of a trailing-slash address) answers too.
- ``GET /tenants``: the service's one tenant (``az login`` without ``--tenant``).
- ``GET``/``PUT /subscriptions/{sub}/resourcegroups/{rg}``: resource groups are namespaces made
  on first use, so every valid name exists (``az acr create -g`` reads its group first);
- ``GET /subscriptions/{sub}/resources`` and ``.../resourceGroups/{rg}/resources``: the
  resources (registries) the caller may read, ``$filter`` on ``resourceType``, ``name`` and
  ``resourceGroup`` — how az finds a registry's resource group from its name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from berth.management.api.deps import (
    COMMON,
    ERRORS,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    ApiDep,
    GroupDep,
    Scope,
    SubscriptionDep,
)
from berth.management.api.filters import parse_filter
from berth.management.api.models import ListOf, Wire
from berth.management.api.registries import REGISTRY_TYPE
from berth.management.authz import READ
from berth.services import Services

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Discovery"])
metadata_router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Discovery"])

CLOUD_NAME = "berth"
MANAGEMENT_AUDIENCE = "https://management.azure.com"

ResourceFilter = Annotated[
    str | None,
    Query(
        alias="$filter",
        max_length=1024,
        description="resourceType eq 'Microsoft.ContainerRegistry/registries', name eq '<name>'",
    ),
]


class Tenant(Wire):
    id: str
    tenant_id: str
    display_name: str
    tenant_category: str
    default_domain: str
    country_code: str
    domains: list[str]
    tenant_type: str


class ResourceGroup(Wire):
    id: str
    name: str
    type: str
    location: str
    properties: dict[str, str]


class GenericResource(Wire):
    id: str
    name: str
    type: str
    location: str
    tags: dict[str, str]
    sku: dict[str, str]


def cloud_metadata(services: Services) -> dict[str, Any]:
    """ARM's metadata document for this service, with every field az maps (unused ones empty)."""
    settings = services.settings
    base = settings.service_url
    port = settings.advertised_port
    suffix = (
        settings.domain
        if port == (443 if settings.scheme == "https" else 80)
        else f"{settings.domain}:{port}"
    )
    empty = ""
    return {
        "name": CLOUD_NAME,
        "portal": empty,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [MANAGEMENT_AUDIENCE, f"{MANAGEMENT_AUDIENCE}/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": empty,
        "graphAudience": empty,
        "graph": empty,
        "suffixes": {
            "azureDataLakeStoreFileSystem": empty,
            "acrLoginServer": suffix,
            "sqlServerHostname": empty,
            "azureDataLakeAnalyticsCatalogAndJob": empty,
            "keyVaultDns": empty,
            "storage": empty,
            "azureFrontDoorEndpointSuffix": empty,
            "storageSyncEndpointSuffix": empty,
            "mhsmDns": empty,
            "mysqlServerEndpoint": empty,
            "postgresqlServerEndpoint": empty,
            "mariadbServerEndpoint": empty,
            "synapseAnalytics": empty,
            "attestationEndpoint": empty,
        },
        "batch": empty,
        "resourceManager": f"{base}/",
        "vmImageAliasDoc": empty,
        "activeDirectoryDataLake": empty,
        "sqlManagement": empty,
        "microsoftGraphResourceId": f"{base}/",
        "appInsightsResourceId": empty,
        "appInsightsTelemetryChannelResourceId": empty,
        "attestationResourceId": empty,
        "synapseAnalyticsResourceId": empty,
        "logAnalyticsResourceId": empty,
        "ossrdbmsResourceId": empty,
        "appServiceResourceId": empty,
        "azmirrorStorageAccountResourceId": empty,
        "gallery": empty,
    }


@metadata_router.get("/metadata/endpoints", operation_id="Metadata_Endpoints")
@metadata_router.get("//metadata/endpoints", include_in_schema=False)
async def metadata_endpoints(request: Request) -> dict[str, Any]:
    """The cloud's endpoints (no sign-in needed)."""
    return cloud_metadata(request.app.state.services)


@router.get("/tenants", response_model=ListOf[Tenant], operation_id="Tenants_List")
async def list_tenants(api: ApiDep) -> ListOf[Tenant]:
    """The service's one tenant."""
    domain = api.services.settings.domain
    tenant = Tenant(
        id=f"/tenants/{api.tenancy.tenant_id}",
        tenant_id=api.tenancy.tenant_id,
        display_name="berth",
        tenant_category="Home",
        default_domain=domain,
        country_code="",
        domains=[domain],
        tenant_type="AAD",
    )
    return ListOf[Tenant](value=[tenant])


@router.get(RESOURCE_GROUP, response_model=ResourceGroup, operation_id="ResourceGroups_Get")
@router.get(
    SUBSCRIPTION + "/resourcegroups/{resourceGroupName}",
    response_model=ResourceGroup,
    include_in_schema=False,
)
@router.put(RESOURCE_GROUP, response_model=ResourceGroup, operation_id="ResourceGroups_CreateOrUpdate")
@router.put(
    SUBSCRIPTION + "/resourcegroups/{resourceGroupName}",
    response_model=ResourceGroup,
    include_in_schema=False,
)
async def resource_group(scope: GroupDep) -> ResourceGroup:
    """A resource group: a namespace that exists as soon as it is named (any signed-in caller)."""
    assert scope.resource_group is not None
    return ResourceGroup(
        id=scope.id,
        name=scope.resource_group,
        type="Microsoft.Resources/resourceGroups",
        location="local",
        properties={"provisioningState": "Succeeded"},
    )


@router.get(
    SUBSCRIPTION + "/resources", response_model=ListOf[GenericResource], operation_id="Resources_List"
)
async def list_resources(scope: SubscriptionDep, filter_: ResourceFilter = None) -> ListOf[GenericResource]:
    """The subscription's resources (registries) that the caller may read."""
    return await _resources(scope, filter_)


@router.get(
    RESOURCE_GROUP + "/resources",
    response_model=ListOf[GenericResource],
    operation_id="Resources_ListByResourceGroup",
)
async def list_group_resources(scope: GroupDep, filter_: ResourceFilter = None) -> ListOf[GenericResource]:
    """A resource group's resources (registries) that the caller may read."""
    return await _resources(scope, filter_)


async def _resources(scope: Scope, filter_text: str | None) -> ListOf[GenericResource]:
    wanted = parse_filter(filter_text, ("resourceType", "name", "resourceGroup"))
    api = scope.api
    records = await api.management.registries.list_registries(scope.resource_group)
    chosen = []
    for record in records:
        resource_id = api.tenancy.registry_id(record)
        values: dict[str, str | None] = {
            "resourcetype": REGISTRY_TYPE,
            "name": record.name,
            "resourcegroup": record.resource_group,
        }
        if wanted.matches(values) and api.caller.can(READ, resource_id):
            chosen.append(
                GenericResource(
                    id=resource_id,
                    name=record.name,
                    type=REGISTRY_TYPE,
                    location=record.location,
                    tags=dict(record.tags),
                    sku={"name": record.sku, "tier": record.sku},
                )
            )
    return ListOf[GenericResource](value=chosen)
