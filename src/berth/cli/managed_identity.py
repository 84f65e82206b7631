"""A host's managed identity, as the CLI uses it (``berth acr login --identity``): a directory
token from the endpoint in ``IDENTITY_ENDPOINT``, proven with ``IDENTITY_HEADER`` (App Service's
protocol; berth's ``/msi/token`` issues them, see ``berth identity host-credential create``)."""

from __future__ import annotations

import os

from berth.cli import context
from berth.cli.acr.access import RegistryLogin, Target, check_reachable, resolve_target
from berth.cli.acr.common import RegistryRef, resource_group_of
from berth.cli.client.directory import CONTAINER_REGISTRY, MANAGEMENT
from berth.cli.client.http import ApiError, send
from berth.cli.client.management import ManagementClient
from berth.cli.client.registry import NULL_GUID, RegistryEndpoint
from berth.cli.framework import CliError, debug

API_VERSION = "2019-08-01"
NOT_CONFIGURED = (
    "No managed identity is configured on this host: set IDENTITY_ENDPOINT and IDENTITY_HEADER to what "
    "'berth identity host-credential create' printed for it."
)


def identity_token(resource: str, client_id: str | None = None) -> str:
    """A directory access token for ``resource`` from the host's managed identity endpoint."""
    endpoint = os.environ.get("IDENTITY_ENDPOINT", "")
    header = os.environ.get("IDENTITY_HEADER", "")
    if not endpoint or not header:
        raise CliError(NOT_CONFIGURED)
    params = {"api-version": API_VERSION, "resource": resource}
    if client_id:
        params["client_id"] = client_id
    response = send(
        context.current().http, "GET", endpoint, params=params, headers={"X-IDENTITY-HEADER": header}
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not body.get("access_token"):
        message = body.get("message") or response.text[:200]
        raise CliError(
            f"The managed identity endpoint {endpoint} refused a token ({response.status_code}): {message}"
        )
    return str(body["access_token"])


def service_from_endpoint() -> None:
    """Without a session or ``BERTH_SERVER``, the service is the one that serves the endpoint."""
    endpoint = os.environ.get("IDENTITY_ENDPOINT", "")
    if not context.current().has_session() and not os.environ.get("BERTH_SERVER") and "/msi/" in endpoint:
        os.environ["BERTH_SERVER"] = endpoint.split("/msi/", 1)[0]


def _target(name: str, client_id: str | None) -> Target:
    """The registry as the identity sees it (it needs Reader to look it up, as with az), else az's
    fallback login server ``<name>.<service host>``."""
    ctx = context.current()
    server = os.environ.get("BERTH_SERVER", "").rstrip("/")
    if ctx.has_session() or not server:
        return resolve_target(name)
    token = identity_token(MANAGEMENT, client_id)
    management = ManagementClient(ctx.http, server, lambda: token, "")
    try:
        subscriptions = management.subscriptions()
        management.subscription_id = str(subscriptions[0]["subscriptionId"]) if subscriptions else ""
        found = [r for r in management.list_registries() if str(r.get("name", "")).lower() == name.lower()]
    except (ApiError, CliError) as exc:
        debug(f"The managed identity could not look up registry {name}: {exc}")
        found = []
    if not found:
        return resolve_target(name)
    resource = found[0]
    resource_id = str(resource.get("id") or "")
    registry = RegistryRef(
        str(resource.get("name")), resource_group_of(resource_id) or "", resource_id, resource
    )
    scheme = server.split("://", 1)[0]
    endpoint = RegistryEndpoint(ctx.http, registry.login_server, scheme)
    return Target(registry, registry.login_server, endpoint, None)


def identity_login(name: str, client_id: str | None = None) -> RegistryLogin:
    """An ACR refresh token for registry ``name``, obtained with the host's managed identity."""
    service_from_endpoint()
    target = _target(name, client_id)
    v2 = check_reachable(target, name)
    challenge = target.endpoint.challenge(response=v2)
    refresh = target.endpoint.exchange(challenge, identity_token(CONTAINER_REGISTRY, client_id), None)
    return RegistryLogin(target.login_server, NULL_GUID, refresh, target.endpoint.scheme)
