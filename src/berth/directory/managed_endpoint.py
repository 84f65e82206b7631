"""The managed identity token endpoint: what a host or container calls in place of Azure's
instance metadata service, in App Service's protocol, which azure-identity's
``ManagedIdentityCredential`` speaks when ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` are set.

``GET /msi/token?api-version=2019-08-01&resource=<resource>[&client_id=|object_id=|mi_res_id=]``
with ``X-IDENTITY-HEADER: <host secret>``. The host secret is issued once, when an operator
assigns the identity to the host (``berth identity host-credential create``), and is stored only
as a hash; it has the form ``<credential id>.<random>`` so that one hash is checked per request.
A secret names exactly one identity; the optional selector must name that same identity.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from berth.access.model import AuthOutcome, Identity, IdentityKind
from berth.access.secrets import SecretVerifier
from berth.directory.tokens import DirectoryTokens, audience_for_scope
from berth.directory.wire import host_registry, report_sign_in
from berth.metadata import managed_identities as managed_rows
from berth.metadata.managed_identities import ManagedIdentityRecord
from berth.registry import clients
from berth.services import Services

PATH = "/msi/token"
HEADER = "x-identity-header"


class ManagedIdentityEndpoint:
    def __init__(self, services: Services, tokens: DirectoryTokens) -> None:
        self.services = services
        self.tokens = tokens
        self._verifier = SecretVerifier()

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.token, methods=["GET"])]

    async def token(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        audience = audience_for_scope(resource)
        if audience is None:
            return _error(400, f"The resource '{resource}' is not known to this service.")
        presented = request.headers.get(HEADER, "")
        client_ip = clients.client_ip(request.scope, self.services.trusted_proxies)
        limits = self.services.auth.limits
        wait = limits.retry_after(client_ip, None)
        if wait is not None:
            return _error(429, f"Too many failed requests; retry after {wait} seconds.")
        found = await self._host_identity(presented)
        if found is None:
            limits.record_failure(client_ip, None)
            await self._report(
                request,
                client_ip,
                AuthOutcome(
                    "managed-identity",
                    Identity.presented(""),
                    "host_secret_invalid",
                    "the X-IDENTITY-HEADER sent is not a host credential of any managed identity",
                    status=401,
                ),
            )
            return _error(401, "The X-IDENTITY-HEADER is missing or not valid for any managed identity.")
        managed, host = found
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, managed.client_id, managed.identity.id)
        if not self._selected(request, managed):
            await self._report(
                request,
                client_ip,
                AuthOutcome(
                    "managed-identity",
                    identity,
                    "identity_not_assigned",
                    f"host {host} asked for identity {_selector(request)}, but it holds only managed "
                    f"identity {managed.name} (client id {managed.client_id})",
                    status=400,
                ),
            )
            return _error(400, f"The managed identity {_selector(request)} is not assigned to this host.")
        access_token, lifetime = self.tokens.issue_access_token(managed.identity, audience, managed.client_id)
        await self._report(request, client_ip, AuthOutcome("managed-identity", identity))
        body: dict[str, Any] = {
            "access_token": access_token,
            "expires_on": str(int(time.time()) + lifetime),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": managed.client_id,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def _host_identity(self, presented: str) -> tuple[ManagedIdentityRecord, str] | None:
        credential_id, dot, _ = presented.partition(".")
        if not dot or len(presented) > 200:
            return None

        def work(conn: Any) -> tuple[ManagedIdentityRecord, str] | None:
            stored = managed_rows.host_credential(conn, credential_id)
            if stored is None or not self._verifier.verify(stored.secret_hash, presented):
                return None
            managed = managed_rows.by_identity(conn, stored.identity_id)
            return (managed, stored.host) if managed is not None and managed.identity.enabled else None

        return await self.services.db.read(work)

    def _selected(self, request: Request, managed: ManagedIdentityRecord) -> bool:
        params = request.query_params
        resource_id = self.services.tenancy.subscription_scope + (
            f"/resourcegroups/{managed.resource_group}/providers/microsoft.managedidentity/"
            f"userassignedidentities/{managed.name}"
        )
        checks = (
            (params.get("client_id"), managed.client_id),
            (params.get("object_id") or params.get("principal_id"), managed.identity.id),
            (params.get("mi_res_id") or params.get("msi_res_id"), resource_id),
        )
        return all(wanted is None or wanted.lower() == actual.lower() for wanted, actual in checks)

    async def _report(self, request: Request, client_ip: str, outcome: AuthOutcome) -> None:
        registry = await host_registry(self.services, request) if outcome.reason else None
        report_sign_in(self.services, request, client_ip, outcome, registry, route="managed-identity-token")


def _selector(request: Request) -> str:
    params = request.query_params
    return next((f"{k}={params[k]}" for k in ("client_id", "object_id", "mi_res_id") if k in params), "")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"statusCode": status, "message": message}, status_code=status)
