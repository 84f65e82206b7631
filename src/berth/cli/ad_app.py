"""``berth ad app federated-credential``: trust an external issuer's tokens (a Kubernetes
cluster's service accounts, a CI pipeline's jobs) in place of a secret, as ``az ad app
federated-credential`` does. ``--id`` is the application id or object id; in berth an
application and its service principal are one identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.framework import CliError, command, group
from berth.cli.role import resolve_principal

app_app = group("app", "Manage applications (their federated identity credentials).")
federated_app = group("federated-credential", "Manage an application's federated identity credentials.")

AppId = Annotated[str, typer.Option("--id", help="The application id or object id.")]
CredentialId = Annotated[str, typer.Option("--federated-credential-id", help="The credential's id or name.")]


def _application(key: str) -> dict[str, Any]:
    found = resolve_principal(key)
    if found.get("principalType") != "ServicePrincipal":
        raise CliError(f"'{key}' is a user, not an application.")
    return found


def _path(app: dict[str, Any], credential: str | None = None) -> str:
    path = f"/applications/{app['id']}/federatedIdentityCredentials"
    return f"{path}/{credential}" if credential else path


def _parameters(text: str) -> dict[str, Any]:
    """az's ``--parameters``: JSON, or ``@file`` / a file path holding it."""
    source = text
    candidate = Path(text[1:] if text.startswith("@") else text)
    if text.startswith("@") or (not text.lstrip().startswith("{") and candidate.is_file()):
        try:
            source = candidate.read_text()
        except OSError as exc:
            raise CliError(f"Cannot read --parameters file {candidate}: {exc.strerror}") from None
    try:
        body = json.loads(source)
    except json.JSONDecodeError as exc:
        raise CliError(f"--parameters is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise CliError("--parameters must be a JSON object with name, issuer and subject.")
    missing = [k for k in ("name", "issuer", "subject") if not body.get(k)]
    if missing:
        raise CliError(f"--parameters lacks {', '.join(missing)}.")
    return body


def federated_create(
    app_id: AppId,
    parameters: Annotated[
        str,
        typer.Option(
            "--parameters",
            help="JSON (or @file): name, issuer, subject, and optionally audiences and description.",
        ),
    ],
) -> dict[str, Any]:
    """Trust tokens of an OIDC issuer for one subject (default audience api://AzureADTokenExchange)."""
    body = _parameters(parameters)
    wanted = {k: body[k] for k in ("name", "issuer", "subject", "audiences", "description") if k in body}
    return dict(context.current().management.graph("POST", _path(_application(app_id)), json=wanted))


def federated_list(app_id: AppId) -> list[dict[str, Any]]:
    """List an application's federated identity credentials."""
    answer = context.current().management.graph("GET", _path(_application(app_id))) or {}
    return list(answer.get("value", []))


def federated_show(app_id: AppId, credential: CredentialId) -> dict[str, Any]:
    """Show one federated identity credential."""
    return dict(context.current().management.graph("GET", _path(_application(app_id), credential)))


def federated_delete(app_id: AppId, credential: CredentialId) -> None:
    """Delete a federated identity credential (tokens of its issuer and subject stop working)."""
    management = context.current().management
    app = _application(app_id)
    found = management.graph("GET", _path(app, credential))
    management.graph("DELETE", _path(app, str(found["id"])))


def register(ad: typer.Typer) -> None:
    command(federated_app, "create")(federated_create)
    command(federated_app, "list")(federated_list)
    command(federated_app, "show")(federated_show)
    command(federated_app, "delete")(federated_delete)
    app_app.add_typer(federated_app, name="federated-credential")
    ad.add_typer(app_app, name="app")
