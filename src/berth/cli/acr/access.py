"""Credentials for a registry's data plane, obtained in az's order (``_get_credentials``):

1. the login server: the registry's ``loginServer`` from the management API, or, when the
   registry is not visible to you, ``<name lower>.<service domain>[:port]``;
2. ``GET /v2/``: ``403`` → the firewall message; no connection → "Could not connect ...";
3. ``--username/--password`` when given (admin or token credentials);
4. else the directory token flow: the challenge (from step 2's answer) → directory token for
   ``https://containerregistry.azure.net`` → ``/oauth2/exchange`` → ACR refresh token (→ access
   token for a scope), with the null-GUID user name;
5. else the admin user. az reads its password with ``listCredentials``; berth shows an admin
   password only once, so the warning says how to pass it instead;
6. else prompt, or fail in non-interactive mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from berth.cli import context
from berth.cli.acr.common import RegistryRef, addressed, find_registry
from berth.cli.client.directory import CONTAINER_REGISTRY, LOGIN_AGAIN, discover
from berth.cli.client.http import ApiError
from berth.cli.client.registry import NULL_GUID, RegistryAuthError, RegistryEndpoint
from berth.cli.framework import (
    NON_INTERACTIVE_CREDENTIALS,
    CliError,
    debug,
    info,
    prompt_secret,
    prompt_text,
    warn,
)

AAD_TOKEN_BASE_ERROR_MESSAGE = "Unable to get AAD authorization tokens with message"
ADMIN_USER_BASE_ERROR_MESSAGE = "Unable to get admin user credentials with message"


@dataclass(frozen=True)
class RegistryLogin:
    login_server: str
    username: str
    password: str  # an ACR refresh or access token (user NULL_GUID), or a password
    scheme: str = "https"


@dataclass(frozen=True)
class Target:
    registry: RegistryRef | None
    login_server: str
    endpoint: RegistryEndpoint
    not_found: str | None  # why the registry could not be looked up


def _service_without_session() -> tuple[httpx.Client, str, str]:
    """(client, scheme, service host) from ``BERTH_SERVER`` when nobody is signed in."""
    server = os.environ.get("BERTH_SERVER", "").rstrip("/")
    ctx = context.current()
    if not server:
        raise CliError("Please run 'berth login' to setup account (or set BERTH_SERVER).")
    found = discover(ctx.http, server)
    return ctx.http, server.split("://", 1)[0], found.service_host


def resolve_target(name: str) -> Target:
    """The registry (if visible) and its login server, the fallback formed as az forms it."""
    ctx = context.current()
    if ctx.has_session():
        try:
            registry = find_registry(name)
        except ApiError as exc:
            if exc.status not in (403, 404):
                raise
            not_found = exc.message
        except CliError as exc:  # the session expired: az also falls back when not logged in
            if "berth login" not in exc.message:
                raise
            not_found = exc.message
        else:
            endpoint = RegistryEndpoint(ctx.http, registry.login_server, ctx.scheme)
            return Target(registry, registry.login_server, endpoint, None)
        client, scheme, host = ctx.http, ctx.scheme, ctx.service_host
    else:
        client, scheme, host = _service_without_session()
        not_found = LOGIN_AGAIN
    # A bare address (localhost:5000, an IP) that no signed-in lookup named is the login server.
    bare = addressed(name)
    login_server = bare.login_server if not bare.name and bare.login_server else f"{name}.{host}".lower()
    return Target(
        None, login_server, RegistryEndpoint(client, login_server, bare.scheme or scheme), not_found
    )


def check_reachable(target: Target, name: str) -> httpx.Response:
    """``GET /v2/`` of the login server, refused in az's words when unreachable or firewalled."""
    url = f"{target.endpoint.base}/v2/"
    try:
        response = target.endpoint.ping()
    except httpx.TransportError as exc:
        debug(f"Could not connect to registry login server. Exception: {exc}")
        if target.not_found:
            warn(f"{target.not_found} Using '{target.login_server}' as the default registry login server.")
        raise CliError(
            f"Could not connect to the registry login server '{target.login_server}'. Please verify that the "
            f"registry exists and the URL '{url}' is reachable from your environment. "
            f"Try running 'berth acr check-health -n {name} --yes' to diagnose this issue."
        ) from None
    if response.status_code == 404:  # the service itself says: no registry of that name
        raise CliError(
            f"The registry '{name}' does not exist on this service ({target.login_server} is not a "
            "registry's login server). Check the name: berth acr list -o table"
        )
    if response.status_code == 403:
        raise CliError(
            f"Looks like you don't have access to registry '{target.login_server}'. To see configured "
            f"firewall rules, run 'berth acr show --query networkRuleSet --name {name}'. To see if public "
            f"network access is enabled, run 'berth acr show --query publicNetworkAccess --name {name}'. "
            "Please refer to https://aka.ms/acr/errors#connectivity_forbidden_error for more information."
        )
    return response


def scope_for(repository: str | None, permission: str | None) -> str:
    if repository:
        return f"repository:{repository}:{permission or 'metadata_read'}"
    return "registry:catalog:*"


def _with_password(
    target: Target, v2: httpx.Response, username: str, password: str, scope: str, login_context: bool
) -> RegistryLogin:
    if login_context:
        return RegistryLogin(target.login_server, username, password, target.endpoint.scheme)
    challenge = target.endpoint.challenge(for_directory_token=False, response=v2)
    token = target.endpoint.token_from_password(challenge, username, password, scope)
    return RegistryLogin(target.login_server, NULL_GUID, token, target.endpoint.scheme)


def _with_directory(
    target: Target, v2: httpx.Response, scope: str, only_refresh_token: bool
) -> RegistryLogin:
    ctx = context.current()
    challenge = target.endpoint.challenge(response=v2)
    directory_token = ctx.credential.token(CONTAINER_REGISTRY)
    refresh = target.endpoint.exchange(challenge, directory_token, ctx.session.tenant_id)
    if only_refresh_token:
        return RegistryLogin(target.login_server, NULL_GUID, refresh, target.endpoint.scheme)
    token = target.endpoint.token_from_refresh(challenge, refresh, scope)
    return RegistryLogin(target.login_server, NULL_GUID, token, target.endpoint.scheme)


def get_credentials(
    name: str,
    username: str | None = None,
    password: str | None = None,
    *,
    only_refresh_token: bool,
    repository: str | None = None,
    permission: str | None = None,
    login_context: bool = False,
) -> RegistryLogin:
    if password and not username:
        raise CliError("Please also specify username if password is specified.")
    target = resolve_target(name)
    v2 = check_reachable(target, name)  # its challenge serves every token request below
    scope = scope_for(repository, permission)
    if username:
        password = password or prompt_secret("Password: ", NON_INTERACTIVE_CREDENTIALS)
        return _with_password(target, v2, username, password, scope, login_context)

    info("Attempting to retrieve AAD refresh token...")
    try:
        return _with_directory(target, v2, scope, only_refresh_token)
    except RegistryAuthError as exc:
        if exc.status == 429:
            raise
        warn(f"{AAD_TOKEN_BASE_ERROR_MESSAGE}: {exc.message}")
    except CliError as exc:
        warn(f"{AAD_TOKEN_BASE_ERROR_MESSAGE}: {exc.message}")

    registry = target.registry
    if registry is None:
        warn(f"{ADMIN_USER_BASE_ERROR_MESSAGE}: {target.not_found}")
    elif not (registry.resource.get("properties") or {}).get("adminUserEnabled"):
        warn(f"{ADMIN_USER_BASE_ERROR_MESSAGE}: Admin user is disabled.")
    else:
        warn(
            f"{ADMIN_USER_BASE_ERROR_MESSAGE}: berth shows an admin password only once, when it is generated "
            f"(it keeps only a hash), so it cannot fetch it for you. Pass it yourself: --username "
            f"{registry.name} --password <password> (see 'berth acr credential renew -n {registry.name}')."
        )
    try:
        username = prompt_text("Username: ", NON_INTERACTIVE_CREDENTIALS)
        password = prompt_secret("Password: ", NON_INTERACTIVE_CREDENTIALS)
    except CliError:
        raise CliError(
            "Unable to authenticate using AAD or admin login credentials. " + NON_INTERACTIVE_CREDENTIALS
        ) from None
    return _with_password(target, v2, username, password, scope, login_context)
