"""``berth acr config retention show|update``: ACR's retention policy for untagged manifests.

Garbage collection applies it: untagged manifests last updated more than ``--days`` ago are
deleted (locked ones are kept), and their blobs freed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.acr.common import ResourceGroup, find_registry
from berth.cli.framework import command, group

config = group("config", "Configure policies for registries.")
app = group("retention", "Manage the retention policy for untagged manifests.")

RegistryOption = Annotated[str, typer.Option("--registry", "-r", help="The name of the container registry.")]


class Status(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


class PolicyType(StrEnum):
    UntaggedManifests = "UntaggedManifests"


def show(registry: RegistryOption, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Show the retention policy for untagged manifests."""
    ref = find_registry(registry, resource_group)
    return context.current().management.retention(ref.resource_group, ref.name)


def update(
    registry: RegistryOption,
    status: Annotated[Status, typer.Option("--status", help="Whether the policy applies.")],
    policy_type: Annotated[
        PolicyType, typer.Option("--type", help="The kind of content the policy applies to.")
    ],
    days: Annotated[
        int, typer.Option("--days", min=0, max=365, help="Days to keep an untagged manifest (0-365).")
    ] = 7,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Enable, disable or change the retention policy for untagged manifests."""
    ref = find_registry(registry, resource_group)
    policy = {"status": status.value, "days": days, "type": policy_type.value}
    return context.current().management.retention(ref.resource_group, ref.name, policy)


def register(acr: typer.Typer) -> None:
    command(app, "show")(show)
    command(app, "update")(update)
    config.add_typer(app, name="retention")
    acr.add_typer(config, name="config")
