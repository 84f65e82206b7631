"""``berth acr scope-map create|list|show|update|delete``: repository permissions for tokens."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from berth.access.scopes import SCOPE_MAP_ACTIONS
from berth.cli import context
from berth.cli.acr.common import (
    RegistryOption,
    ResourceGroup,
    Yes,
    delete_child,
    find_registry_id,
    flatten,
    list_children,
    show_child,
)
from berth.cli.framework import CliError, command, confirm, group, words, words_option

app = group("scope-map", "Manage scope access maps for repository-scoped tokens.")

KIND = "scopeMaps"

ScopeMapName = Annotated[str, typer.Option("--name", "-n", help="The name of the scope map.")]
Description = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--description", help="Description for the scope map (up to 256 characters)."),
]


def repository_option(*names: str, help: str) -> Any:
    return words_option(*names, metavar="REPOSITORY ACTION...", help=help)


Repository = Annotated[
    Optional[list[str]],  # noqa: UP045
    repository_option(
        "--repository",
        help=f"Repository and its actions ({', '.join(SCOPE_MAP_ACTIONS)}), "
        "e.g. --repository hello-world content/read content/write. Repeatable.",
    ),
]


def parse_actions(repositories: list[str] | None) -> list[str]:
    """``--repository REPO ACTION...`` occurrences → ``repositories/<repo>/<action>`` actions."""
    actions: list[str] = []
    for rule in words(repositories):
        repository, granted = rule[0].lower(), [a.lower() for a in rule[1:]]
        if not granted:
            raise CliError(f"At least one action must be specified with the repository {repository}.")
        for action in granted:
            if action not in SCOPE_MAP_ACTIONS:
                raise CliError(
                    f'Invalid action "{action}" provided. Valid actions are {", ".join(SCOPE_MAP_ACTIONS)}.'
                )
            actions.append(f"repositories/{repository}/{action}")
    return actions


def scope_map_table(result: Any) -> list[dict[str, Any]]:
    rows = result if isinstance(result, list) else [result]
    return [
        {
            "NAME": r.get("name"),
            "TYPE": r.get("typePropertiesType"),
            "CREATION DATE": r.get("creationDate"),
            "DESCRIPTION": r.get("description"),
        }
        for r in rows
    ]


def create(
    name: ScopeMapName,
    registry: RegistryOption,
    repository: Repository = None,
    description: Description = None,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Create a scope map listing repositories and the actions allowed on them."""
    actions = parse_actions(repository)
    if not actions:
        raise CliError("usage error: --repository REPOSITORY ACTION [ACTION ...] is required")
    registry_id = find_registry_id(registry, resource_group)
    body: dict[str, Any] = {"properties": {"actions": actions}}
    if description is not None:
        body["properties"]["description"] = description
    return flatten(context.current().management.put_child(registry_id, KIND, name, body))


def list_scope_maps(registry: RegistryOption, resource_group: ResourceGroup = None) -> list[dict[str, Any]]:
    """List the scope maps of a registry (the system-defined ones first)."""
    return list_children(registry, resource_group, KIND)


def show(
    name: ScopeMapName, registry: RegistryOption, resource_group: ResourceGroup = None
) -> dict[str, Any]:
    """Show a scope map and its actions."""
    return show_child(registry, resource_group, KIND, name)


def update(
    name: ScopeMapName,
    registry: RegistryOption,
    add_repository: Annotated[
        Optional[list[str]],  # noqa: UP045
        repository_option(
            "--add-repository",
            "--add",
            help="Repository and actions to add (as for --repository). Repeatable.",
        ),
    ] = None,
    remove_repository: Annotated[
        Optional[list[str]],  # noqa: UP045
        repository_option(
            "--remove-repository", "--remove", help="Repository and actions to remove. Repeatable."
        ),
    ] = None,
    description: Description = None,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Add or remove repository actions, or change the description."""
    registry_id = find_registry_id(registry, resource_group)
    management = context.current().management
    current = management.get_child(registry_id, KIND, name)
    actions: list[str] = list((current.get("properties") or {}).get("actions") or [])
    if remove_repository:
        removed = {a.lower() for a in parse_actions(remove_repository)}
        actions = [a for a in actions if a.lower() not in removed]
    if add_repository:
        by_lower = {a.lower(): a for a in actions}
        by_lower.update({a.lower(): a for a in parse_actions(add_repository)})
        actions = list(by_lower.values())
    properties: dict[str, Any] = {"actions": actions}
    if description is not None:
        properties["description"] = description
    return flatten(management.patch_child(registry_id, KIND, name, {"properties": properties}))


def delete(
    name: ScopeMapName, registry: RegistryOption, yes: Yes = False, resource_group: ResourceGroup = None
) -> None:
    """Delete a scope map (not while a token uses it)."""
    confirm(
        f"Deleting the scope map '{name}' will remove its permissions with associated tokens. Proceed?", yes
    )
    delete_child(registry, resource_group, KIND, name)


def register(acr: typer.Typer) -> None:
    command(app, "create", table=scope_map_table)(create)
    command(app, "list", table=scope_map_table)(list_scope_maps)
    command(app, "show", table=scope_map_table)(show)
    command(app, "update", table=scope_map_table)(update)
    command(app, "delete")(delete)
    acr.add_typer(app, name="scope-map")
