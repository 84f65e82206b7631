"""``POST R/{name}/garbageCollect`` (``berth acr gc``) and ``POST R/{name}/purge`` (``berth acr purge``).

``garbageCollect`` frees the bytes of unreferenced blobs now; ``purge`` deletes old tags and
untagged manifests (see ``berth.content.purge``).

A berth extension shaped like an ARM action. The collection runs in a worker thread and answers
with what it freed (or, with ``dryRun``, what it would free); see ``berth.content.collector``.
"""

from __future__ import annotations

import re
import time
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter
from pydantic import Field

from berth.content.collector import GarbageCollector
from berth.content.purge import PurgeFilter, purge
from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep
from berth.management.api.models import Wire
from berth.management.authz import READ, WRITE
from berth.management.errors import invalid
from berth.metadata import collection

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Garbage collection"])

ACTION = "Microsoft.ContainerRegistry/registries/garbageCollect/action"


class GarbageCollectRequest(Wire):
    dry_run: bool = False


class GarbageCollectResult(Wire):
    registry: str
    dry_run: bool
    blobs_freed: int
    bytes_freed: int
    digests: list[str]
    summary: str


@router.post(
    REGISTRY + "/garbageCollect",
    response_model=GarbageCollectResult,
    operation_id="Registries_GarbageCollect",
)
async def garbage_collect(scope: RegistryDep, body: GarbageCollectRequest) -> GarbageCollectResult:
    """Delete the blobs no manifest of the registry references (older than ``gc_grace_seconds``)."""
    record = await scope.authorized_registry(WRITE, ACTION)
    services = scope.api.services
    collector = GarbageCollector(services.db, services.storage, services.settings.gc_grace_seconds)
    report = await anyio.to_thread.run_sync(lambda: collector.collect(record.id, dry_run=body.dry_run))
    return GarbageCollectResult(
        registry=record.name,
        dry_run=report.dry_run,
        blobs_freed=report.blobs,
        bytes_freed=report.bytes,
        digests=list(report.digests),
        summary=str(report),
    )


PURGE_ACTION = "Microsoft.ContainerRegistry/registries/purge/action"


class PurgeRequest(Wire):
    filters: list[str]
    ago_seconds: float
    untagged: bool = False
    keep: int = 0
    dry_run: bool = False


class PurgeResponse(Wire):
    registry: str
    dry_run: bool
    deleted_tags: list[str]
    deleted_manifests: list[str]
    locked: list[str]


@router.post(REGISTRY + "/purge", response_model=PurgeResponse, operation_id="Registries_Purge")
async def purge_content(scope: RegistryDep, body: PurgeRequest) -> PurgeResponse:
    """Delete tags (with ``untagged``, untagged manifests too) older than ``agoSeconds``."""
    record = await scope.authorized_registry(WRITE, PURGE_ACTION)
    try:
        filters = [PurgeFilter.parse(text) for text in body.filters]
    except (ValueError, re.error) as error:
        raise invalid(str(error), "filters") from None
    cutoff = time.time() - body.ago_seconds
    result = await scope.api.services.db.write(
        purge,
        record.id,
        filters,
        cutoff,
        untagged=body.untagged,
        keep=max(body.keep, 0),
        dry_run=body.dry_run,
    )
    for entry in [*result.tags, *result.manifests]:
        scope.api.services.pull_cache.invalidate(record.id, re.split("[:@]", entry, maxsplit=1)[0])
    return PurgeResponse(
        registry=record.name,
        dry_run=body.dry_run,
        deleted_tags=result.tags,
        deleted_manifests=result.manifests,
        locked=result.locked,
    )


RETENTION_READ = "Microsoft.ContainerRegistry/registries/read"
RETENTION_WRITE = "Microsoft.ContainerRegistry/registries/write"


class RetentionPolicy(Wire):
    """ACR's ``policies.retentionPolicy``: untagged manifests older than ``days`` are deleted."""

    status: Literal["enabled", "disabled"] = "disabled"
    days: int = Field(default=7, ge=0, le=365)
    type: Literal["UntaggedManifests"] = "UntaggedManifests"


@router.get(
    REGISTRY + "/retentionPolicy", response_model=RetentionPolicy, operation_id="Registries_GetRetention"
)
async def get_retention(scope: RegistryDep) -> RetentionPolicy:
    """The registry's retention policy for untagged manifests, applied by garbage collection."""
    record = await scope.authorized_registry(READ, RETENTION_READ)
    enabled, days = await scope.api.services.db.read(collection.get_retention, record.id)
    return RetentionPolicy(status="enabled" if enabled else "disabled", days=days)


@router.put(
    REGISTRY + "/retentionPolicy", response_model=RetentionPolicy, operation_id="Registries_SetRetention"
)
async def set_retention(scope: RegistryDep, body: RetentionPolicy) -> RetentionPolicy:
    """Enable, disable or change the retention policy for untagged manifests."""
    record = await scope.authorized_registry(WRITE, RETENTION_WRITE)
    await scope.api.services.db.write(
        collection.set_retention, record.id, body.status == "enabled", body.days
    )
    return body
