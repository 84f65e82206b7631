"""``GET R/{name}/listUsages`` (``az acr show-usage``): what a registry uses, with its SKU's limits.

The limits are ACR's per SKU (storage included in the SKU, webhooks, scope maps, tokens), except
``Size`` when a storage quota applies to the registry (berth.content.quota): then it is that
quota, which pushes are refused beyond. berth has no webhooks, so their current value is always 0.
"""

from __future__ import annotations

from fastapi import APIRouter

from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep
from berth.management.api.models import Wire
from berth.management.authz import READ
from berth.metadata.usage import usage

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Usage"])

GIB = 1024**3
# name -> (Basic, Standard, Premium)
SKU_LIMITS = {
    "Size": (10 * GIB, 100 * GIB, 500 * GIB),
    "Webhooks": (2, 10, 500),
    "ScopeMaps": (100, 500, 50000),
    "Tokens": (100, 500, 50000),
}
SKUS = ("Basic", "Standard", "Premium")


class RegistryUsage(Wire):
    name: str
    limit: int
    current_value: int
    unit: str


class RegistryUsageList(Wire):
    value: list[RegistryUsage]


def limit(sku: str, name: str) -> int:
    return SKU_LIMITS[name][SKUS.index(sku) if sku in SKUS else 2]


@router.get(REGISTRY + "/listUsages", response_model=RegistryUsageList, operation_id="Registries_ListUsages")
async def list_usages(scope: RegistryDep) -> RegistryUsageList:
    """Storage used, webhooks, scope maps and tokens, each with the SKU's limit."""
    record = await scope.authorized_registry(READ, "Microsoft.ContainerRegistry/registries/listUsages/read")
    used = await scope.api.services.db.read(usage, record.id)
    current = {"Size": used.size, "Webhooks": 0, "ScopeMaps": used.scope_maps, "Tokens": used.tokens}
    quota = scope.api.management.registries.storage_quota(record).limit
    limits = {name: limit(record.sku, name) for name in current}
    if quota is not None:
        limits["Size"] = quota
    return RegistryUsageList(
        value=[
            RegistryUsage(
                name=name,
                limit=limits[name],
                current_value=value,
                unit="Bytes" if name == "Size" else "Count",
            )
            for name, value in current.items()
        ]
    )
