"""``berth acr credential show|renew``: the admin user's name and passwords.

berth keeps only hashes of admin passwords, so a value appears once, in the answer that
generated it (the first ``show`` after enabling the admin user, or a ``renew``); later answers
carry ``null`` and say so on stderr.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.acr.common import RegistryName, RegistryRef, ResourceGroup, find_registry
from berth.cli.framework import CliError, command, group, warn

app = group("credential", "Manage login credentials for the admin user of a registry.")


class PasswordName(StrEnum):
    password = "password"
    password2 = "password2"


def credential_table(result: Any) -> list[dict[str, Any]]:
    values = {p.get("name"): p.get("value") for p in result.get("passwords") or []}
    return [
        {
            "USERNAME": result.get("username"),
            "PASSWORD": values.get("password"),
            "PASSWORD2": values.get("password2"),
        }
    ]


def _admin_registry(name: str, resource_group: str | None) -> RegistryRef:
    """The registry, once it is known to have its admin user enabled."""
    registry = find_registry(name, resource_group)
    if not (registry.resource.get("properties") or {}).get("adminUserEnabled"):
        raise CliError(f"Run 'berth acr update -n {name} --admin-enabled true' to enable admin first.")
    return registry


def _note_hidden(result: dict[str, Any], registry_name: str) -> None:
    hidden = [p.get("name") for p in result.get("passwords") or [] if p.get("value") is None]
    if hidden:
        warn(
            f"berth stores admin passwords as hashes and shows each value only once, when it is generated; "
            f"{' and '.join(str(h) for h in hidden)} {'was' if len(hidden) == 1 else 'were'} shown before. "
            f"Run 'berth acr credential renew -n {registry_name} --password-name <name>' for a new value."
        )


def show(name: RegistryName, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Get the login credentials for the admin user (values shown once, when generated)."""
    registry = _admin_registry(name, resource_group)
    result = context.current().management.list_credentials(registry.resource_group, registry.name)
    _note_hidden(result, name)
    return result


def renew(
    name: RegistryName,
    password_name: Annotated[
        PasswordName, typer.Option("--password-name", help="The name of password to regenerate.")
    ],
    resource_group: ResourceGroup = None,
) -> dict[str, Any]:
    """Regenerate one of the admin user's passwords; the answer shows its new value."""
    registry = _admin_registry(name, resource_group)
    management = context.current().management
    return management.regenerate_credential(registry.resource_group, registry.name, password_name.value)


def register(acr: typer.Typer) -> None:
    command(app, "show", table=credential_table)(show)
    command(app, "renew", table=credential_table)(renew)
    acr.add_typer(app, name="credential")
