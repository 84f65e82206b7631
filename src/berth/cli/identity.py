"""``berth identity``: user-assigned managed identities, as ``az identity`` manages them, and
``berth identity host-credential``: the secret that lets one host use an identity (berth's
stand-in for assigning an identity to a VM; the host sets ``IDENTITY_ENDPOINT`` and
``IDENTITY_HEADER`` to what ``create`` prints, once)."""

from __future__ import annotations

from typing import Annotated, Any, Optional
from urllib.parse import quote

import typer

from berth.cli import context
from berth.cli.acr.common import resource_group_of
from berth.cli.acr.registry import Tags, _tags
from berth.cli.framework import CliError, command, group, warn

app = group("identity", "Manage user-assigned managed identities.")
host_app = group("host-credential", "Manage the hosts that may use a managed identity.")
federated_app = group("federated-credential", "Manage a managed identity's federated identity credentials.")

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
API_VERSION = "2023-01-31"
HOST_WARNING = (
    "The output includes a secret that lets its holder act as the identity. Set it on the host only "
    "(IDENTITY_HEADER); berth shows it once."
)

Name = Annotated[str, typer.Option("--name", "-n", help="The identity's name.")]
Group = Annotated[str, typer.Option("--resource-group", "-g", help="The resource group.")]
Host = Annotated[
    str, typer.Option("--host", help="A name for the host (a VM, a container, a pipeline agent).")
]


def _path(resource_group: str, name: str | None = None) -> str:
    management = context.current().management
    base = f"{management.resource_group_scope(resource_group)}/providers/{TYPE}"
    return f"{base}/{quote(name, safe='')}" if name else base


def flatten(resource: dict[str, Any]) -> dict[str, Any]:
    """az's shape: the properties beside id, name, location, resourceGroup, tags and type."""
    flat = {k: v for k, v in resource.items() if k != "properties"}
    flat.update(resource.get("properties") or {})
    flat["resourceGroup"] = resource_group_of(str(resource.get("id", "")))
    return flat


def _request(method: str, path: str, body: Any = None) -> Any:
    return context.current().management.request(method, path, json=body, api_version=API_VERSION)


def create(
    name: Name,
    resource_group: Group,
    location: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--location", "-l", help="Accepted for az compatibility."),
    ] = None,
    tags: Tags = None,
) -> dict[str, Any]:
    """Create a user-assigned identity (or update its tags); grant roles with berth role assignment."""
    body = {"location": location or "local", "tags": _tags(tags) or {}}
    return flatten(_request("PUT", _path(resource_group, name), body))


def list_identities(
    resource_group: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--resource-group", "-g", help="Only this resource group."),
    ] = None,
) -> list[dict[str, Any]]:
    """List user-assigned identities."""
    management = context.current().management
    path = _path(resource_group) if resource_group else f"{management.subscription_scope}/providers/{TYPE}"
    return [flatten(item) for item in (_request("GET", path) or {}).get("value", [])]


def show(name: Name, resource_group: Group) -> dict[str, Any]:
    """Show a user-assigned identity."""
    return flatten(_request("GET", _path(resource_group, name)))


def delete(name: Name, resource_group: Group) -> None:
    """Delete an identity with its role assignments and host credentials."""
    _request("DELETE", _path(resource_group, name))


def host_create(name: Name, resource_group: Group, host: Host) -> dict[str, Any]:
    """Let a host use the identity: prints IDENTITY_ENDPOINT and IDENTITY_HEADER for it, once."""
    created = _request("POST", f"{_path(resource_group, name)}/hostCredentials", {"host": host})
    if not created or not created.get("identityHeader"):
        raise CliError("The service did not return a host credential.")
    warn(HOST_WARNING)
    return dict(created)


def host_list(name: Name, resource_group: Group) -> list[dict[str, Any]]:
    """List the hosts that may use the identity (never their secrets)."""
    return list((_request("GET", f"{_path(resource_group, name)}/hostCredentials") or {}).get("value", []))


def host_delete(name: Name, resource_group: Group, host: Host) -> None:
    """Stop a host from using the identity (from its next token request)."""
    _request("DELETE", f"{_path(resource_group, name)}/hostCredentials/{quote(host, safe='')}")


IdentityName = Annotated[str, typer.Option("--identity-name", help="The identity's name.")]
CredentialName = Annotated[str, typer.Option("--name", "-n", help="The federated credential's name.")]


def _federated(resource_group: str, identity_name: str, name: str | None = None) -> str:
    path = f"{_path(resource_group, identity_name)}/federatedIdentityCredentials"
    return f"{path}/{quote(name, safe='')}" if name else path


def federated_create(
    identity_name: IdentityName,
    resource_group: Group,
    name: CredentialName,
    issuer: Annotated[str, typer.Option("--issuer", help="The OIDC issuer URL (https).")],
    subject: Annotated[str, typer.Option("--subject", help="The subject, e.g. system:serviceaccount:ns:sa.")],
    audiences: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--audiences", help="The audience (default api://AzureADTokenExchange)."),
    ] = None,
) -> dict[str, Any]:
    """Trust an issuer's tokens for one subject as this identity (az identity federated-credential create)."""
    body = {"properties": {"issuer": issuer, "subject": subject, "audiences": audiences or None}}
    return flatten(_request("PUT", _federated(resource_group, identity_name, name), body))


def federated_list(identity_name: IdentityName, resource_group: Group) -> list[dict[str, Any]]:
    """List the identity's federated identity credentials."""
    answer = _request("GET", _federated(resource_group, identity_name)) or {}
    return [flatten(item) for item in answer.get("value", [])]


def federated_delete(identity_name: IdentityName, resource_group: Group, name: CredentialName) -> None:
    """Delete a federated identity credential of the identity."""
    _request("DELETE", _federated(resource_group, identity_name, name))


def register(root: typer.Typer) -> None:
    command(federated_app, "create")(federated_create)
    command(federated_app, "list")(federated_list)
    command(federated_app, "delete")(federated_delete)
    app.add_typer(federated_app, name="federated-credential")
    command(app, "create")(create)
    command(app, "list")(list_identities)
    command(app, "show")(show)
    command(app, "delete")(delete)
    command(host_app, "create")(host_create)
    command(host_app, "list")(host_list)
    command(host_app, "delete")(host_delete)
    app.add_typer(host_app, name="host-credential")
    root.add_typer(app, name="identity")
