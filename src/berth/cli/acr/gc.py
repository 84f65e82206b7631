"""``berth acr gc`` and ``berth acr purge``: free storage, and delete old tags and untagged manifests.

The server also collects every hour on its own; this runs a collection now, through the
management API's ``garbageCollect`` action, and prints what it freed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.acr.common import RegistryName, ResourceGroup, find_registry
from berth.cli.framework import CliError, command

UNITS = {"d": 86400, "h": 3600, "m": 60}


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
    """Delete the blobs no manifest references (older than gc_grace_seconds, an hour by default)."""
    registry = find_registry(name, resource_group)
    return context.current().management.garbage_collect(registry.resource_group, registry.name, dry_run)


def parse_ago(text: str) -> float:
    """ACR's duration: ``30d``, ``1d2h30m``, or a Go-style ``2h30m``; in seconds."""
    parts = re.findall(r"(\d+)([dhm])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise CliError(f"--ago must be a duration such as 30d, 1d2h or 45m, not {text!r}")
    return float(sum(int(n) * UNITS[u] for n, u in parts))


def purge_table(result: Any) -> list[dict[str, Any]]:
    rows = [{"DELETED": tag, "KIND": "tag"} for tag in result.get("deletedTags") or []]
    rows += [{"DELETED": m, "KIND": "manifest"} for m in result.get("deletedManifests") or []]
    rows += [
        {"DELETED": f"{item} (locked, skipped)", "KIND": "locked"} for item in result.get("locked") or []
    ]
    return rows


def purge(
    name: RegistryName,
    filters: Annotated[
        list[str], typer.Option("--filter", help="'<repository regex>:<tag regex>'; may be repeated.")
    ],
    ago: Annotated[str, typer.Option("--ago", help="Only content last updated longer ago: 30d, 1d2h, 45m.")],
    untagged: Annotated[
        bool,
        typer.Option("--untagged", help="Also delete the manifests of these repositories left without tags."),
    ] = False,
    keep: Annotated[int, typer.Option("--keep", help="Keep the N most recently updated matching tags.")] = 0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted, delete nothing.")
    ] = False,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Delete tags (and untagged manifests) older than --ago, as `acr purge`; locked content is skipped."""
    registry = find_registry(name, resource_group)
    body = {
        "filters": filters,
        "agoSeconds": parse_ago(ago),
        "untagged": untagged,
        "keep": keep,
        "dryRun": dry_run,
    }
    return context.current().management.purge(registry.resource_group, registry.name, body)


def usage_table(result: Any) -> list[dict[str, Any]]:
    return [
        {
            "NAME": u.get("name"),
            "LIMIT": u.get("limit"),
            "CURRENT VALUE": u.get("currentValue"),
            "UNIT": u.get("unit"),
        }
        for u in result.get("value") or []
    ]


def show_usage(name: RegistryName, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Get the storage usage and the limits of a registry (storage, webhooks, scope maps, tokens)."""
    registry = find_registry(name, resource_group)
    return context.current().management.list_usages(registry.resource_group, registry.name)


def register(acr: typer.Typer) -> None:
    command(acr, "show-usage", table=usage_table)(show_usage)
    command(acr, "gc", table=gc_table)(gc)
    command(acr, "purge", table=purge_table)(purge)
