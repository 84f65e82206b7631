"""``berth acr gc``: free the storage of blobs that no manifest of the registry references.

The server also collects every hour on its own; this runs a collection now, through the
management API's ``garbageCollect`` action, and prints what it freed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.acr.common import RegistryName, ResourceGroup, find_registry
from berth.cli.framework import command


def gc_table(result: Any) -> list[dict[str, Any]]:
    return [
        {
            "REGISTRY": result.get("registry"),
            "DRY RUN": result.get("dryRun"),
            "BLOBS": result.get("blobsFreed"),
            "BYTES": result.get("bytesFreed"),
        }
    ]


def gc(
    name: RegistryName,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be freed without deleting anything.")
    ] = False,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Delete the blobs no manifest references (pushed more than an hour ago), and report them."""
    registry = find_registry(name, resource_group)
    return context.current().management.garbage_collect(registry.resource_group, registry.name, dry_run)


def register(acr: typer.Typer) -> None:
    command(acr, "gc", table=gc_table)(gc)
