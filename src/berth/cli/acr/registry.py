"""``berth acr create|list|show|update|delete|check-name``: registries as ARM resources."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr.common import (
    DEFAULT_RESOURCE_GROUP,
    RegistryName,
    ResourceGroup,
    Yes,
    find_registry,
    flatten,
)
from berth.cli.framework import CliError, all_words, command, confirm, three_state, warn, words_option


class Sku(StrEnum):
    Basic = "Basic"
    Standard = "Standard"
    Premium = "Premium"


class DefaultAction(StrEnum):
    Allow = "Allow"
    Deny = "Deny"


AdminEnabled = Annotated[Optional[bool], three_state("Indicates whether the admin user is enabled.")]  # noqa: UP045
AnonymousPull = Annotated[
    Optional[bool],  # noqa: UP045
    three_state("Enable pulls without credentials, for every repository of the registry."),
]
PublicNetwork = Annotated[
    Optional[bool],  # noqa: UP045
    three_state("Allow public network access to the registry (false overrides every firewall rule)."),
]
DefaultActionOption = Annotated[
    Optional[DefaultAction],  # noqa: UP045
    typer.Option(
        "--default-action", help="Default action when no network rule matches (IP rules need Premium)."
    ),
]
StorageQuota = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--storage-quota",
        help="Bytes the registry may store (berth only): a size such as 20GiB or 500MB, unlimited, or "
        "default (the service's default_storage_quota). Pushes beyond it are refused.",
    ),
]
Tags = Annotated[
    Optional[list[str]],  # noqa: UP045
    words_option("--tags", metavar="KEY=VALUE...", help="Space-separated tags: key=value."),
]


def registry_table(result: Any) -> list[dict[str, Any]]:
    rows = result if isinstance(result, list) else [result]
    return [
        {
            "NAME": r.get("name"),
            "RESOURCE GROUP": r.get("resourceGroup"),
            "LOCATION": r.get("location"),
            "SKU": (r.get("sku") or {}).get("name"),
            "LOGIN SERVER": r.get("loginServer"),
            "CREATION DATE": r.get("creationDate"),
            "ADMIN ENABLED": r.get("adminUserEnabled"),
        }
        for r in rows
    ]


def _tags(values: list[str] | None) -> dict[str, str] | None:
    if values is None:
        return None
    tags: dict[str, str] = {}
    for item in all_words(values):
        key, _, value = item.partition("=")
        if not key:
            raise CliError(f"usage error: --tags KEY=VALUE [KEY=VALUE ...], not '{item}'")
        tags[key] = value
    return tags


def _network_properties(
    properties: dict[str, Any],
    current: dict[str, Any],
    public_network_enabled: bool | None,
    default_action: DefaultAction | None,
) -> None:
    action = default_action.value if default_action else None
    if public_network_enabled is not None:
        properties["publicNetworkAccess"] = "Enabled" if public_network_enabled else "Disabled"
        if not public_network_enabled:
            action = "Deny"
            warn("Disabling the public endpoint overrides all firewall configurations.")
    if action is not None:
        rules = current.get("networkRuleSet") or {}
        properties["networkRuleSet"] = {"defaultAction": action, "ipRules": rules.get("ipRules") or []}


def create(
    name: RegistryName,
    resource_group: ResourceGroup = None,
    sku: Annotated[Sku, typer.Option("--sku", help="The SKU of the container registry.")] = Sku.Premium,
    location: Annotated[
        str, typer.Option("--location", "-l", help="Location (berth has one: local).")
    ] = "local",
    admin_enabled: AdminEnabled = None,
    anonymous_pull_enabled: AnonymousPull = None,
    public_network_enabled: PublicNetwork = None,
    default_action: DefaultActionOption = None,
    tags: Tags = None,
) -> dict[str, Any]:
    """Create a container registry (resource group "default" unless -g is given)."""
    if any(c.isupper() for c in name):
        raise CliError("argument error: Registry name must use only lowercase.", exit_code=2)
    if "-" in name:
        raise CliError("argument error: Registry name cannot contain dashes.", exit_code=2)
    properties: dict[str, Any] = {"adminUserEnabled": bool(admin_enabled)}
    if anonymous_pull_enabled is not None:
        properties["anonymousPullEnabled"] = anonymous_pull_enabled
    _network_properties(properties, {}, public_network_enabled, default_action)
    body: dict[str, Any] = {"location": location, "sku": {"name": sku.value}, "properties": properties}
    body["tags"] = _tags(tags) or {}
    management = context.current().management
    return flatten(management.create_registry(resource_group or DEFAULT_RESOURCE_GROUP, name, body))


def list_registries(resource_group: ResourceGroup = None) -> list[dict[str, Any]]:
    """List container registries (all those you may read, or one resource group's)."""
    return [flatten(r) for r in context.current().management.list_registries(resource_group)]


def show(name: RegistryName, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Get the details of a container registry."""
    return flatten(find_registry(name, resource_group).resource)


def update(
    name: RegistryName,
    resource_group: ResourceGroup = None,
    admin_enabled: AdminEnabled = None,
    anonymous_pull_enabled: AnonymousPull = None,
    public_network_enabled: PublicNetwork = None,
    default_action: DefaultActionOption = None,
    sku: Annotated[
        Optional[Sku],  # noqa: UP045
        typer.Option("--sku", help="The SKU of the container registry."),
    ] = None,
    tags: Tags = None,
    storage_quota: StorageQuota = None,
) -> dict[str, Any]:
    """Update a container registry (e.g. --admin-enabled true, --default-action Deny, --storage-quota 2GiB).

    --storage-quota is berth's own: pushes that would store more are refused.
    """
    registry = find_registry(name, resource_group)
    current = registry.resource.get("properties") or {}
    properties: dict[str, Any] = {}
    if admin_enabled is not None:
        properties["adminUserEnabled"] = admin_enabled
    if anonymous_pull_enabled is not None:
        properties["anonymousPullEnabled"] = anonymous_pull_enabled
    _network_properties(properties, current, public_network_enabled, default_action)
    if storage_quota is not None:
        properties["storageQuota"] = storage_quota
    body: dict[str, Any] = {"properties": properties}
    if sku is not None:
        body["sku"] = {"name": sku.value}
    parsed_tags = _tags(tags)
    if parsed_tags is not None:
        body["tags"] = parsed_tags
    management = context.current().management
    return flatten(management.update_registry(registry.resource_group, registry.name, body))


def delete(name: RegistryName, resource_group: ResourceGroup = None, yes: Yes = False) -> None:
    """Delete a container registry, its repositories and its role assignments."""
    confirm(f"Are you sure you want to delete the registry '{name}'?", yes)
    registry = find_registry(name, resource_group)
    context.current().management.delete_registry(registry.resource_group, registry.name)


def check_name(name: RegistryName) -> dict[str, Any]:
    """Check whether a container registry name is valid and not yet taken."""
    result = context.current().management.check_name(name)
    result.setdefault("reason", None)
    result.setdefault("message", None)
    return result


def register(app: typer.Typer) -> None:
    command(app, "create", table=registry_table)(create)
    command(app, "list", table=registry_table)(list_registries)
    command(app, "show", table=registry_table)(show)
    command(app, "update", table=registry_table)(update)
    command(app, "delete")(delete)
    command(app, "check-name")(check_name)
