"""The registry's health checks run from the server's side: ``berth acr check-health``'s login
chain (DNS, TLS and ``/v2/``, the challenge, anonymous access, storage) against the registry's
login server, as a client on the server's host would see it, signed in as the portal's user
(a directory token for the registry audience, exchanged as ``az acr login`` does). The docker
checks are left out: they are about a user's machine, not the server's.
"""

from __future__ import annotations

import anyio.to_thread
import httpx
from starlette.requests import Request
from starlette.responses import Response

from berth.directory.authorization import PORTAL_CLIENT_ID
from berth.directory.tokens import CONTAINER_REGISTRY, DirectoryTokens
from berth.management.authz import READ
from berth.portal.pages import Portal
from berth.portal.session import PortalUser
from berth.troubleshoot.health import HealthCheck, HealthReport, HealthRequest

# No docker on the server's side: a command that cannot be found, and a docker config folder
# that does not exist (so the server's own stored credentials are never read).
SERVER_SIDE = {"DOCKER_COMMAND": "berth-portal-no-docker", "DOCKER_CONFIG": "/nonexistent/berth-portal"}
TIMEOUT_SECONDS = 10.0


class HealthPages:
    def __init__(self, portal: Portal, tokens: DirectoryTokens) -> None:
        self.portal = portal
        self.services = portal.services
        self.tokens = tokens

    async def run(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        resource_id = user.registry_id(record)
        user.caller.require(READ, resource_id, "Microsoft.ContainerRegistry/registries/read")
        settings = self.services.settings
        health = HealthRequest(
            registry=record.name,
            login_server=self.services.management.registries.login_server(record),
            scheme=settings.scheme,
            registry_id=resource_id,
            ignore_errors=True,
            pull=False,
            public_access_disabled=not record.public_network_enabled,
            directory_token=self.tokens.issue_access_token(
                user.caller.identity, CONTAINER_REGISTRY, PORTAL_CLIENT_ID
            )[0],
        )
        report = await anyio.to_thread.run_sync(lambda: self._check(health))
        findings = [f for f in report.findings if not f.code.startswith("DOCKER_COMMAND")]
        return self.portal.render(
            request,
            "health.html",
            user,
            registry=record,
            findings=findings,
            login_server=report.login_server,
            manage=user.can_read(record),
            tab="diagnose",
        )

    @staticmethod
    def _check(health: HealthRequest) -> HealthReport:
        with httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False, follow_redirects=False) as client:
            return HealthCheck(health, client, SERVER_SIDE).execute()
