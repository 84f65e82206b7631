"""Issue 3's measurements on berth with authentication on (the ``token-auth`` capability).

- token requests per second, Basic → access token (``GET /oauth2/token`` with the admin user's
  password, as docker sends it) and refresh → access token (``POST /oauth2/token`` with
  ``grant_type=refresh_token``, as docker with an identity token and the Azure SDK send it);
- manifest GETs per second with a bearer token, judged against berth's anonymous figure from
  the ``--insecure-no-auth`` run (target: at least 90%).

Setup goes through berth's own surfaces: the owner signs in to the directory, enables the
default registry's admin user through the management API, and exchanges a directory token for
an ACR refresh token. Distribution has no token server, so these figures are berth-only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import httpx

from bench.cases import CaseContext, Samples
from bench.cases.manifests import REPOSITORY, TAG, load, load_metrics, load_samples
from bench.metrics import AllOf, AtLeastFractionOf, AtLeastTimesBaselineOf, Bound, Metric
from bench.registry import OCI_MANIFEST, push_image
from bench.servers import OWNER, OWNER_PASSWORD, RunningServer
from bench.wire import Client

TOKEN_AUTH = frozenset({"token-auth"})
Grant = Literal["basic", "refresh"]

_GRANT_LABELS = {"basic": "token requests, Basic → access", "refresh": "token requests, refresh → access"}
_SCOPE = f"repository:{REPOSITORY}:pull"
TOKEN_TARGET = Bound(2000, at_least=True, unit="/s")


@dataclass(frozen=True)
class Credentials:
    service: str
    admin_basic: str  # "Basic <base64 of registry name : password>"
    refresh_token: str

    def access_token(self, server: RunningServer) -> str:
        response = httpx.post(
            f"{server.url}/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": self.service,
                "scope": _SCOPE,
                "refresh_token": self.refresh_token,
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def _directory_token(client: httpx.Client, audience: str) -> str:
    discovery = client.get("/organizations/v2.0/.well-known/openid-configuration").raise_for_status().json()
    response = client.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "password",
            "client_id": "bench",
            "username": OWNER,
            "password": OWNER_PASSWORD,
            "scope": f"{audience}/.default",
        },
    )
    return str(response.raise_for_status().json()["access_token"])


def prepare(server: RunningServer) -> Credentials:
    """Admin password and a refresh token for the default registry, and the image to pull."""
    service = f"{server.host}:{server.port}"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        management = {"Authorization": f"Bearer {_directory_token(client, 'https://management.azure.com')}"}
        subscription = client.get("/subscriptions", headers=management).raise_for_status().json()["value"][0]
        registry = (
            f"/subscriptions/{subscription['subscriptionId']}/resourceGroups/default"
            "/providers/Microsoft.ContainerRegistry/registries/default"
        )
        client.patch(
            registry, headers=management, json={"properties": {"adminUserEnabled": True}}
        ).raise_for_status()
        credentials = client.post(f"{registry}/listCredentials", headers=management).raise_for_status().json()
        password = credentials["passwords"][0]["value"]
        exchange = client.post(
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": service,
                "access_token": _directory_token(client, "https://containerregistry.azure.net"),
            },
        )
        refresh = str(exchange.raise_for_status().json()["refresh_token"])
    basic = "Basic " + base64.b64encode(f"{credentials['username']}:{password}".encode()).decode()
    with Client(server.host, server.port, headers={"Authorization": basic}) as pusher:
        push_image(pusher, REPOSITORY, TAG)
    return Credentials(service, basic, refresh)


_PREPARED: dict[int, Credentials] = {}


def credentials_for(server: RunningServer) -> Credentials:
    """One setup per running server, shared by the cases that run on it."""
    if server.pid not in _PREPARED:
        _PREPARED[server.pid] = prepare(server)
    return _PREPARED[server.pid]


@dataclass(frozen=True)
class TokenRequests:
    """Access tokens per second for one grant (Basic credentials, or a refresh token)."""

    grant: Grant
    requires: frozenset[str] = TOKEN_AUTH

    @property
    def name(self) -> str:
        return f"token-{self.grant}"

    @property
    def metrics(self) -> tuple[Metric, ...]:
        prefix = f"token_{self.grant}"
        return (
            Metric(
                f"{prefix}.rps", _GRANT_LABELS[self.grant], "req/s", target=TOKEN_TARGET, candidate_only=True
            ),
            Metric(f"{prefix}.cpu", "  server CPU per request", "us", False, candidate_only=True),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        credentials = credentials_for(server)
        query = urlencode({"service": credentials.service, "scope": _SCOPE})
        if self.grant == "basic":
            with ctx.profiled(server, self.name):
                measured = load(
                    server,
                    ctx,
                    f"/oauth2/token?{query}",
                    {"Authorization": credentials.admin_basic},
                    self.name,
                )
        else:
            form = urlencode(
                {
                    "grant_type": "refresh_token",
                    "service": credentials.service,
                    "scope": _SCOPE,
                    "refresh_token": credentials.refresh_token,
                }
            )
            with ctx.profiled(server, self.name):
                measured = load(server, ctx, "/oauth2/token", {}, self.name, form=form)
        samples = load_samples(measured, f"token_{self.grant}")
        return {key: sample for key, sample in samples.items() if key.endswith((".rps", ".cpu"))}


@dataclass(frozen=True)
class AuthenticatedManifestGet:
    """Manifest GETs per second with a bearer token: ≥ 90% of the anonymous figure."""

    connections: int
    name: str = "manifest-get-bearer"
    requires: frozenset[str] = TOKEN_AUTH

    @property
    def metrics(self) -> tuple[Metric, ...]:
        target = AllOf(
            (
                AtLeastFractionOf("manifest.rps", 0.9, "anonymous GET"),
                AtLeastTimesBaselineOf("manifest.rps", 5.0, "Distribution's anonymous GET"),
            )
        )
        label = f"manifest GET with bearer token, {self.connections} connections"
        return load_metrics("manifest_bearer", label, target, candidate_only=True)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        credentials = credentials_for(server)
        headers = {"Accept": OCI_MANIFEST, "Authorization": f"Bearer {credentials.access_token(server)}"}
        with ctx.profiled(server, self.name):
            measured = load(server, ctx, f"/v2/{REPOSITORY}/manifests/{TAG}", headers, self.name)
        return load_samples(measured, "manifest_bearer")
