"""``POST R/{name}/garbageCollect`` (``berth acr gc``): free the bytes of unreferenced blobs now.

A berth extension shaped like an ARM action. The collection runs in a worker thread and answers
with what it freed (or, with ``dryRun``, what it would free); see ``berth.content.collector``.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter

from berth.content.collector import GarbageCollector
from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep
from berth.management.api.models import Wire
from berth.management.authz import WRITE

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
    """Delete the blobs no manifest of the registry references (older than the grace period)."""
    record = await scope.authorized_registry(WRITE, ACTION)
    services = scope.api.services
    collector = GarbageCollector(services.db, services.storage)
    report = await anyio.to_thread.run_sync(lambda: collector.collect(record.id, dry_run=body.dry_run))
    return GarbageCollectResult(
        registry=record.name,
        dry_run=report.dry_run,
        blobs_freed=report.blobs,
        bytes_freed=report.bytes,
        digests=list(report.digests),
        summary=str(report),
    )
