"""``berth login``, ``berth logout`` and ``berth account``: the session, like ``az login``."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.client import session as session_file
from berth.cli.client.directory import (
    CONTAINER_REGISTRY,
    MANAGEMENT,
    discover,
    sign_in_service_principal,
    sign_in_user,
    sign_in_with_federated_token,
)
from berth.cli.client.http import new_client
from berth.cli.client.management import ManagementClient
from berth.cli.client.session import SERVICE_PRINCIPAL, USER, CachedToken, Session
from berth.cli.framework import (
    NON_INTERACTIVE_CREDENTIALS,
    CliError,
    command,
    group,
    prompt_secret,
    prompt_text,
)

DEFAULT_SERVER = "http://localhost:5000"
RESOURCES = {"arm": MANAGEMENT, "acr": CONTAINER_REGISTRY}

account_app = group("account", "Show the signed-in account and get its access tokens.")


def normalize_server(server: str) -> str:
    server = server.strip().rstrip("/")
    if "://" not in server:
        raise CliError(f"--server '{server}' must be a URL such as https://berth.example.com:5000")
    scheme = server.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise CliError(f"--server '{server}' must use http or https")
    return server


def subscription_entry(session: Session, *, login: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "homeTenantId": session.tenant_id,
        "id": session.subscription_id,
        "isDefault": True,
        "managedByTenants": [],
        "name": "berth",
        "state": "Enabled",
        "tenantId": session.tenant_id,
        "user": {"name": session.user_name, "type": session.user_type},
    }
    if login:
        entry["cloudName"] = "berth"
    else:
        entry["environmentName"] = "berth"
        entry["server"] = session.server
    return entry


def login(
    username: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--username", "-u", help="User name (UPN), or the app id with --service-principal."),
    ] = None,
    password: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--password", "-p", help="Password, or the client secret with --service-principal (prompted)."
        ),
    ] = None,
    service_principal: Annotated[
        bool, typer.Option("--service-principal", help="Sign in as a service principal.")
    ] = False,
    federated_token: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--federated-token",
            help="With --service-principal: an OIDC token of an issuer the SP trusts (a CI job's, a pod's).",
        ),
    ] = None,
    tenant: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--tenant", "-t", help="The tenant id (berth has one; checked if given)."),
    ] = None,
    server: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--server", envvar="BERTH_SERVER", help=f"The berth service URL (default {DEFAULT_SERVER})."
        ),
    ] = None,
    ca_cert: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--ca-cert", help="CA certificate (PEM) the service's TLS certificate chains to; kept for later."
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """Sign in to a berth service, as a user or a service principal.

    The session is kept in ~/.config/berth/session.json (mode 0600); access tokens are refreshed
    as needed. Without --ca-cert, REQUESTS_CA_BUNDLE or SSL_CERT_FILE are honoured.
    """
    url = normalize_server(server or DEFAULT_SERVER)
    ca_path = str(ca_cert.expanduser().resolve()) if ca_cert else None
    if ca_cert is not None and not ca_cert.expanduser().is_file():
        raise CliError(f"--ca-cert '{ca_cert}' is not a file")
    client = new_client(ca_path)
    with client:
        found = discover(client, url, tenant)
        if tenant and tenant.lower() not in (found.tenant_id.lower(), "organizations", "common"):
            raise CliError(f"Tenant '{tenant}' not found. This service's tenant is {found.tenant_id}.")
        if federated_token and (not service_principal or not username or password):
            raise CliError("usage error: --service-principal --username APP_ID --federated-token TOKEN")
        if federated_token:
            assert username is not None
            secret = None
            first = sign_in_with_federated_token(client, found.token_endpoint, username, federated_token)
        elif service_principal:
            if not username:
                raise CliError("usage error: --service-principal --username NAME --password SECRET")
            secret = password or prompt_secret("Password: ", NON_INTERACTIVE_CREDENTIALS)
            first = sign_in_service_principal(client, found.token_endpoint, username, secret)
        else:
            username = username or prompt_text(
                "Username: ", "Please specify --username and --password in non-interactive mode."
            )
            secret = password or prompt_secret("Password: ", NON_INTERACTIVE_CREDENTIALS)
            first = sign_in_user(client, found.token_endpoint, username, secret)
        subscriptions = ManagementClient(client, url, lambda: first.access_token, "").subscriptions()
    if not subscriptions:
        raise CliError(f"{url} lists no subscription for {username}.")
    signed_in = Session(
        server=url,
        tenant_id=found.tenant_id,
        token_endpoint=found.token_endpoint,
        issuer=found.issuer,
        subscription_id=str(subscriptions[0]["subscriptionId"]),
        user_name=username,
        user_type=SERVICE_PRINCIPAL if service_principal else USER,
        refresh_token=None if service_principal else first.refresh_token,
        client_secret=secret if service_principal else None,
        federated_token=federated_token,
        ca_cert=ca_path,
        tokens={MANAGEMENT: CachedToken(first.access_token, first.expires_on)},
    )
    session_file.save(signed_in)
    context.use(None)
    return [subscription_entry(signed_in, login=True)]


def logout() -> None:
    """Sign out: forget the session and its cached tokens."""
    if not session_file.delete():
        raise CliError("There are no active accounts.")
    context.use(None)


def show() -> dict[str, Any]:
    """The signed-in account: subscription, tenant, user and service."""
    return subscription_entry(context.current().session, login=False)


def get_access_token(
    resource: Annotated[
        str,
        typer.Option(
            "--resource",
            help="Audience: https://management.azure.com or https://containerregistry.azure.net.",
        ),
    ] = MANAGEMENT,
    resource_type: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--resource-type", help="arm or acr (instead of --resource)."),
    ] = None,
) -> dict[str, Any]:
    """A directory access token for the signed-in identity (printed, as az prints it)."""
    ctx = context.current()
    audience = RESOURCES.get((resource_type or "").lower(), resource.rstrip("/"))
    if resource_type and resource_type.lower() not in RESOURCES:
        raise CliError(f"--resource-type must be one of: {', '.join(RESOURCES)}")
    token = ctx.credential.token(audience)
    expires_on = ctx.session.tokens[audience].expires_on
    return {
        "accessToken": token,
        "expiresOn": datetime.datetime.fromtimestamp(expires_on).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "expires_on": int(expires_on),
        "subscription": ctx.session.subscription_id,
        "tenant": ctx.session.tenant_id,
        "tokenType": "Bearer",
    }


def register(app: typer.Typer) -> None:
    command(app, "login")(login)
    command(app, "logout")(logout)
    command(account_app, "show")(show)
    command(account_app, "get-access-token")(get_access_token)
    app.add_typer(account_app, name="account")
