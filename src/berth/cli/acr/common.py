"""What the ``berth acr`` groups share: options named as az names them, finding a registry by
name, ARM resources flattened the way az prints them (``properties`` lifted to the top,
``resourceGroup`` added), and listing, showing and deleting a registry's scope maps and tokens."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.client.http import ApiError
from berth.cli.framework import CliError, warn

DEFAULT_RESOURCE_GROUP = "default"

RegistryName = Annotated[str, typer.Option("--name", "-n", help="The name of the container registry.")]
RegistryOption = Annotated[str, typer.Option("--registry", "-r", help="The name of the container registry.")]
ResourceGroup = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--resource-group",
        "-g",
        help="Resource group; found from the registry name when omitted.",
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not prompt for confirmation.")]
Username = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--username", "-u", help="The username used to log into a container registry."),
]
Password = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--password", "-p", help="The password used to log into a container registry."),
]

_RESOURCE_GROUP_IN_ID = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def resource_group_of(resource_id: str) -> str | None:
    found = _RESOURCE_GROUP_IN_ID.search(resource_id or "")
    return found.group(1) if found else None


def flatten(resource: dict[str, Any]) -> dict[str, Any]:
    """az's view of an ARM resource: properties at the top level, plus ``resourceGroup``.

    A property whose name is taken (a scope map's ``type``) becomes ``<name>Properties<Name>``,
    as az's models name it (``typePropertiesType``).
    """
    flat = {k: v for k, v in resource.items() if k != "properties"}
    for key, value in (resource.get("properties") or {}).items():
        flat[f"{key}Properties{key[:1].upper()}{key[1:]}" if key in flat else key] = value
    group = resource_group_of(str(resource.get("id", "")))
    if group is not None:
        flat["resourceGroup"] = group
    return flat


@dataclass(frozen=True)
class RegistryRef:
    name: str  # as the service spells it
    resource_group: str
    id: str
    resource: dict[str, Any]

    @property
    def login_server(self) -> str:
        return str((self.resource.get("properties") or {}).get("loginServer") or "")


def not_found(name: str) -> CliError:
    ctx = context.current()
    return ApiError(
        f"(ResourceNotFound) The resource with name '{name}' and type "
        f"'Microsoft.ContainerRegistry/registries' could not be found in subscription "
        f"'berth ({ctx.session.subscription_id})'.",
        404,
        "ResourceNotFound",
    )


def find_registry(name: str, resource_group: str | None = None) -> RegistryRef:
    """The registry called ``name`` (any case), in ``resource_group`` or wherever it is."""
    management = context.current().management
    if resource_group:
        resource = management.get_registry(resource_group, name)
    else:
        matches = [r for r in management.list_registries() if str(r.get("name", "")).lower() == name.lower()]
        if not matches:
            raise not_found(name)
        resource = matches[0]
    resource_id = str(resource.get("id") or "")
    group = resource_group_of(resource_id) or resource_group or DEFAULT_RESOURCE_GROUP
    return RegistryRef(str(resource.get("name") or name), group, resource_id, resource)


@dataclass(frozen=True)
class Addressed:
    """What ``-n`` named: the registry, and the login server (and scheme) when ``-n`` was one."""

    name: str
    login_server: str | None = None
    scheme: str | None = None


def _bare_address(host: str) -> bool:
    """The service's own address (an IP literal, ``localhost``, or a dotless host with a port),
    where berth serves its default registry: no registry name can be read off it."""
    if host.startswith("["):
        return True
    hostname, colon, _ = host.rpartition(":") if ":" in host else (host, "", "")
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return hostname.lower() == "localhost" or (bool(colon) and "." not in hostname)
    return True


def addressed(value: str) -> Addressed:
    """``myreg``, ``myreg.<domain>[:port]`` (its login server) or ``http(s)://myreg.<domain>...``;
    the service's bare address (``localhost:5000``, ``127.0.0.1:5000``) names its default registry,
    whose name it does not tell: ``name`` is then empty (see :func:`registry_name_for`)."""
    scheme, separator, rest = value.partition("://")
    if not separator:
        scheme, rest = "", value
    host = rest.split("/", 1)[0]
    if _bare_address(host):
        return Addressed("", host.lower(), scheme.lower() or None)
    position = host.find(".")
    if position <= 0:
        return Addressed(host or value)
    return Addressed(host[:position], host.lower(), scheme.lower() or None)


def registry_name_for(target: Addressed) -> str:
    """The registry ``target`` names; for a bare address, the registry whose login server it is
    (asked of the service when signed in), else the address itself, as the user typed it."""
    if target.name or target.login_server is None:
        return target.name
    if context.current().has_session():
        for resource in context.current().management.list_registries():
            server = str((resource.get("properties") or {}).get("loginServer") or "").lower()
            if server == target.login_server:
                return str(resource.get("name") or "")
    return target.login_server


def registry_name_from(name: str) -> str:
    """The resource name in ``name``: az strips a login server's suffix with a warning, so
    ``-n myreg.<domain>[:port]`` (the login server) means the registry ``myreg``."""
    found = addressed(name)
    if found.name and found.login_server is not None:
        suffix = found.login_server[len(found.name) :]
        warn(f"The login server endpoint suffix '{suffix}' is automatically omitted.")
    return registry_name_for(found)


def find_registry_id(name: str, resource_group: str | None = None) -> str:
    return find_registry(name, resource_group).id


# --- a registry's child resources (``scopeMaps``, ``tokens``) -----------------------------


def list_children(registry: str, resource_group: str | None, kind: str) -> list[dict[str, Any]]:
    registry_id = find_registry_id(registry, resource_group)
    return [flatten(child) for child in context.current().management.list_children(registry_id, kind)]


def show_child(registry: str, resource_group: str | None, kind: str, name: str) -> dict[str, Any]:
    registry_id = find_registry_id(registry, resource_group)
    return flatten(context.current().management.get_child(registry_id, kind, name))


def delete_child(registry: str, resource_group: str | None, kind: str, name: str) -> None:
    registry_id = find_registry_id(registry, resource_group)
    context.current().management.delete_child(registry_id, kind, name)
