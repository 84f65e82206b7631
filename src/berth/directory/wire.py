"""What the directory's endpoints share: Entra ID's error body and the sign-in report."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from berth.access.model import AuthOutcome
from berth.events.observer import RequestSummary, new_correlation_id
from berth.events.requestlog import correlation_id_of, note_caller
from berth.metadata.registries import RegistryRecord
from berth.registry.hosts import split_host, target_for
from berth.services import Services


def oauth_error(
    error: str, code: int, description: str, *, status: int, headers: dict[str, str] | None = None
) -> Response:
    """Entra ID's OAuth error body, with its ``AADSTS<code>`` in the description."""
    trace = str(uuid.uuid4())
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace,
            "correlation_id": trace,
        },
        status_code=status,
        headers=headers,
    )


def report_sign_in(
    services: Services,
    request: Request,
    client_ip: str,
    outcome: AuthOutcome,
    registry: RegistryRecord | None = None,
    route: str = "directory-token",
) -> None:
    """One directory sign-in (or refusal) for the login events, the metrics and the request log."""
    if outcome.identity is not None:
        note_caller(request.scope, outcome.identity.label)
    services.observer.request_finished(
        RequestSummary(
            method=request.method,
            path=request.url.path,
            route=route,
            status=outcome.status,
            duration_ms=0.0,
            client_ip=client_ip,
            user_agent=request.headers.get("user-agent", ""),
            correlation_id=correlation_id_of(request.scope) or new_correlation_id(),
            login_server=split_host(request.headers.get("host", ""))[0],
            auth=outcome,
            registry=registry,
        )
    )


async def host_registry(services: Services, request: Request) -> RegistryRecord | None:
    """The registry of the host a client addressed the directory at (the bare address: the
    default registry), so that a refusal there shows in that registry's login events."""
    settings = services.settings
    target = target_for(request.headers.get("host", ""), settings.domain, settings.default_registry)
    return await services.registries.find(target.name)
