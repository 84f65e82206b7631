"""``berth acr token create|list|show|update|delete`` and ``berth acr token credential
generate|delete``: repository-scoped tokens (user name = token name, passwords password1/2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr.common import (
    RegistryOption,
    ResourceGroup,
    Yes,
    delete_child,
    find_registry,
    find_registry_id,
    flatten,
    list_children,
    show_child,
)
from berth.cli.acr.scope_maps import KIND as SCOPE_MAPS
from berth.cli.acr.scope_maps import Repository, parse_actions
from berth.cli.client.http import ApiError
from berth.cli.framework import CliError, command, confirm, group, warn

app = group("token", "Manage tokens for a registry (repository-scoped access without a directory identity).")
credential_app = group("credential", "Manage the passwords of a token.")

KIND = "tokens"


class Status(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


TokenName = Annotated[str, typer.Option("--name", "-n", help="The name of the token.")]
ExpirationInDays = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--expiration-in-days", min=1, help="Number of days the password(s) stay valid."),
]
Expiration = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--expiration", help="UTC time the password(s) expire, e.g. 2027-12-31T12:59:59Z."),
]
Password1 = Annotated[bool, typer.Option("--password1", help="Act on password1.")]
Password2 = Annotated[bool, typer.Option("--password2", help="Act on password2.")]


def token_table(result: Any) -> list[dict[str, Any]]:
    rows = result if isinstance(result, list) else [result]
    table = []
    for r in rows:
        passwords = {p.get("name"): p for p in (r.get("credentials") or {}).get("passwords") or []}
        table.append(
            {
                "NAME": r.get("name"),
                "SCOPE MAP": str(r.get("scopeMapId") or "").rsplit("/", 1)[-1],
                "STATUS": r.get("status"),
                "PASSWORD1 EXPIRY": (passwords.get("password1") or {}).get("expiry"),
                "PASSWORD2 EXPIRY": (passwords.get("password2") or {}).get("expiry"),
                "CREATION DATE": r.get("creationDate"),
            }
        )
    return table


def expiry_of(expiration_in_days: int | None, expiration: str | None) -> str | None:
    if expiration_in_days is not None and expiration is not None:
        raise CliError("usage error: --expiration-in-days | --expiration")
    if expiration_in_days is not None:
        return (datetime.now(UTC) + timedelta(days=expiration_in_days)).isoformat()
    if expiration is not None:
        try:
            moment = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        except ValueError:
            raise CliError(
                f"--expiration '{expiration}' is not an ISO 8601 time such as 2027-12-31T12:59:59Z"
            ) from None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    return None


def _default_scope_map(registry_id: str, registry: str, token: str, repositories: list[str]) -> str:
    """az's ``<token>-scope-map``: reused when its actions match, created otherwise."""
    management = context.current().management
    name = f"{token}-scope-map"
    actions = parse_actions(repositories)
    try:
        existing = management.get_child(registry_id, SCOPE_MAPS, name)
    except ApiError as exc:
        if exc.status != 404:
            raise
    else:
        if sorted((existing.get("properties") or {}).get("actions") or []) == sorted(actions):
            return str(existing["id"])
        raise CliError(
            "The default scope map was already configured with different repository permissions. Please use "
            f'"berth acr scope-map update -r {registry} -n {name} --add-repository <REPO> <ACTIONS> '
            '--remove-repository <REPO> <ACTIONS>" to update.'
        )
    warn(f'Creating a scope map "{name}" for provided repository permissions.')
    body = {"properties": {"actions": actions, "description": f"Created by token: {token}"}}
    return str(management.put_child(registry_id, SCOPE_MAPS, name, body)["id"])


def create(
    name: TokenName,
    registry: RegistryOption,
    scope_map: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--scope-map", help="The name of the scope map the token uses."),
    ] = None,
    repository: Repository = None,
    status: Annotated[Status, typer.Option("--status", help="The status of the token.")] = Status.enabled,
    expiration_in_days: ExpirationInDays = None,
    expiration: Expiration = None,
    no_passwords: Annotated[
        bool, typer.Option("--no-passwords", help="Do not generate passwords now.")
    ] = False,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Create a token for a scope map (or for --repository, creating <token>-scope-map).

    Two passwords are generated and shown once, unless --no-passwords.
    """
    if bool(repository) == bool(scope_map):
        raise CliError("usage error: --repository | --scope-map")
    expiry = expiry_of(expiration_in_days, expiration)
    found = find_registry(registry, resource_group)
    if repository:
        scope_map_id = _default_scope_map(found.id, registry, name, repository)
    else:
        scope_map_id = f"{found.id}/{SCOPE_MAPS}/{scope_map}"
    management = context.current().management
    body = {"properties": {"scopeMapId": scope_map_id, "status": status.value}}
    token = management.put_child(found.id, KIND, name, body)
    if no_passwords:
        return flatten(token)
    generated = management.generate_credentials(found.id, str(token["id"]), None, expiry)
    properties = token.setdefault("properties", {})
    properties["credentials"] = {
        **(properties.get("credentials") or {}),
        "username": generated.get("username"),
        "passwords": generated.get("passwords") or [],
    }
    first: dict[str, Any] = next(iter(generated.get("passwords") or []), {})
    warn(
        "Please store your generated credentials safely. Meanwhile you can use it through "
        f'"docker login {found.login_server} -u {generated.get("username")} -p {first.get("value")}".'
    )
    return flatten(token)


def list_tokens(registry: RegistryOption, resource_group: ResourceGroup = None) -> list[dict[str, Any]]:
    """List the tokens of a registry."""
    return list_children(registry, resource_group, KIND)


def show(name: TokenName, registry: RegistryOption, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Show a token (password values are never shown again; names and expiry are)."""
    return show_child(registry, resource_group, KIND, name)


def update(
    name: TokenName,
    registry: RegistryOption,
    scope_map: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--scope-map", help="The name of the scope map to use instead."),
    ] = None,
    status: Annotated[
        Optional[Status],  # noqa: UP045
        typer.Option("--status", help="enabled, or disabled to refuse its logins."),
    ] = None,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Change a token's scope map or status."""
    registry_id = find_registry_id(registry, resource_group)
    properties: dict[str, Any] = {}
    if scope_map is not None:
        properties["scopeMapId"] = f"{registry_id}/{SCOPE_MAPS}/{scope_map}"
    if status is not None:
        properties["status"] = status.value
    management = context.current().management
    return flatten(management.patch_child(registry_id, KIND, name, {"properties": properties}))


def delete(
    name: TokenName, registry: RegistryOption, yes: Yes = False, resource_group: ResourceGroup = None
) -> None:
    """Delete a token; its passwords stop working."""
    confirm(
        f"Deleting the token '{name}' will invalidate access to anyone using its credentials. Proceed?", yes
    )
    delete_child(registry, resource_group, KIND, name)


def credential_generate(
    name: TokenName,
    registry: RegistryOption,
    password1: Password1 = False,
    password2: Password2 = False,
    expiration_in_days: ExpirationInDays = None,
    expiration: Expiration = None,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Generate (or regenerate) password1, password2, or both; values are shown once."""
    expiry = expiry_of(expiration_in_days, expiration)
    registry_id = find_registry_id(registry, resource_group)
    password_name = ("password1" if password1 else "password2") if password1 != password2 else None
    token_id = f"{registry_id}/{KIND}/{name}"
    return context.current().management.generate_credentials(registry_id, token_id, password_name, expiry)


def credential_delete(
    name: TokenName,
    registry: RegistryOption,
    password1: Password1 = False,
    password2: Password2 = False,
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Delete password1, password2, or both, of a token."""
    if not (password1 or password2):
        raise CliError("No credentials to delete.")
    registry_id = find_registry_id(registry, resource_group)
    management = context.current().management
    token = management.get_child(registry_id, KIND, name)
    credentials = (token.get("properties") or {}).get("credentials") or {}
    existing = [str(p.get("name")) for p in credentials.get("passwords") or []]
    for wanted, label, present in (
        (password1, "Password1", "password1"),
        (password2, "Password2", "password2"),
    ):
        if wanted and present not in existing:
            raise CliError(f"Unable to perform operation. {label} credential doesn't exist.")
    removed = {n for n, wanted in (("password1", password1), ("password2", password2)) if wanted}
    keep = [{"name": n} for n in existing if n not in removed]
    body = {"properties": {"credentials": {"passwords": keep}}}
    return flatten(management.patch_child(registry_id, KIND, name, body))


def register(acr: typer.Typer) -> None:
    command(app, "create", table=token_table)(create)
    command(app, "list", table=token_table)(list_tokens)
    command(app, "show", table=token_table)(show)
    command(app, "update", table=token_table)(update)
    command(app, "delete")(delete)
    command(credential_app, "generate")(credential_generate)
    command(credential_app, "delete", table=token_table)(credential_delete)
    app.add_typer(credential_app, name="credential")
    acr.add_typer(app, name="token")
