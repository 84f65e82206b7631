"""The registry plane: every request to a registry's login server passes through here.

In order: correlation id → registry from Host → network rules → route → access step →
handler. Any denial or wire error becomes the response here, and the finished request is
reported once to the observer (events and metrics) and the request log, so they never disagree.
"""

from __future__ import annotations

import logging
import time

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from berth import errors
from berth.access import network
from berth.access.model import AccessRequest, Denial, Grant
from berth.direct_bodies import BodyInterrupted, bytes_read_directly
from berth.diskspace import out_of_space
from berth.errors import JSON_CONTENT_TYPE, WireError
from berth.events.observer import RepositoryOperation, RequestSummary, new_correlation_id
from berth.names import is_repository_name
from berth.registry import clients
from berth.registry.context import RequestContext
from berth.registry.handlers.acr_diagnostics import REJECTED_PREFIX
from berth.registry.hosts import split_host, target_for
from berth.registry.routes import Route, match
from berth.sendfile import ZERO_COPY_SEND, SendInterrupted
from berth.services import Services

log = logging.getLogger("berth.registry")

CORRELATION_HEADER = "X-Ms-Correlation-Request-Id"
DISCARD_SECONDS = 30.0
COMMON_HEADERS = {
    "Docker-Distribution-Api-Version": "registry/2.0",
    "X-Content-Type-Options": "nosniff",
    "Access-Control-Expose-Headers": (
        "Docker-Content-Digest, WWW-Authenticate, Link, X-Ms-Correlation-Request-Id"
    ),
}


_COMMON_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in COMMON_HEADERS.items()]
_CORRELATION_RAW = CORRELATION_HEADER.lower().encode()


def error_response(error: WireError) -> Response:
    return Response(
        error.body(), status_code=error.http_status, headers=dict(error.headers), media_type=JSON_CONTENT_TYPE
    )


class RegistryPlane:
    """ASGI app for ``/v2/``, ``/oauth2/`` and ``/acr/`` on a registry's login server."""

    def __init__(self, services: Services, routes: tuple[Route, ...]) -> None:
        self.services = services
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        services = self.services
        correlation_id = new_correlation_id()
        counter = _ByteCounter(receive, send)
        request = Request(scope, counter.receive)
        proxies = services.trusted_proxies
        summary = RequestSummary(
            method=scope["method"],
            path=scope["path"],
            route="",
            status=0,
            duration_ms=0.0,
            client_ip=clients.client_ip(scope, proxies),
            user_agent=request.headers.get("user-agent", ""),
            correlation_id=correlation_id,
            login_server=split_host(request.headers.get("host", ""))[0],
        )
        try:
            response = await self._respond(request, summary, proxies)
        except (ClientDisconnect, BodyInterrupted):
            summary.status = 499
            response = None
        except WireError as exc:
            if exc.drain_body:
                await counter.discard_body()
            response = error_response(exc)
        except Exception as exc:
            error = self._unexpected(exc, request, summary)
            if error.error is errors.INSUFFICIENT_STORAGE:
                await counter.discard_body()
            response = error_response(error)
        if response is not None:
            # Handlers never set these, so they are appended as raw bytes (cheaper than MutableHeaders).
            response.raw_headers.extend(_COMMON_RAW_HEADERS)
            response.raw_headers.append((_CORRELATION_RAW, correlation_id.encode()))
            summary.status = response.status_code
            try:
                await response(scope, counter.receive, counter.send)
            except OSError:
                summary.status = 499
        summary.bytes_in = counter.bytes_in + bytes_read_directly(scope)
        summary.bytes_out = counter.bytes_out
        summary.duration_ms = (time.perf_counter() - started) * 1000
        services.observer.request_finished(summary)
        services.request_log.write(summary)

    def _unexpected(self, exc: Exception, request: Request, summary: RequestSummary) -> WireError:
        """A bug (500 UNKNOWN), or a write that found the disk full (507, with its event)."""
        correlation_id = summary.correlation_id
        found = out_of_space(exc)
        if found is None:
            log.exception("unexpected error (correlation id %s)", correlation_id)
            return WireError(errors.UNKNOWN, f"internal error; correlation id {correlation_id}")
        self.services.disk.record_full()
        reason = found.reason
        log.error(
            "out of space (%s) serving %s %s: %s (correlation id %s)",
            reason,
            request.method,
            request.url.path,
            found.error,
            correlation_id,
        )
        params = match(self.routes, request.method, request.scope["path"]).params
        name = params.get("name")
        if name and summary.registry is not None:
            # The failed write is recorded as a failed repository event (result 507).
            reference = params.get("reference", "")
            digest = request.query_params.get("digest", "") or (reference if ":" in reference else "")
            summary.operations.append(
                RepositoryOperation(
                    "Delete" if request.method == "DELETE" else "Push",
                    name,
                    tag="" if ":" in reference else reference,
                    digest=digest,
                )
            )
        return WireError(
            errors.INSUFFICIENT_STORAGE,
            f"the registry's storage is full ({reason.replace('_', ' ')}): the write was not completed; "
            f"ask the registry's owner to free space (correlation id {correlation_id})",
            detail={"reason": reason},
        )

    async def _respond(
        self, request: Request, summary: RequestSummary, proxies: tuple[clients.Network, ...]
    ) -> Response:
        services = self.services
        settings = services.settings
        host_header = request.headers.get("host", "")
        target = target_for(host_header, settings.domain, settings.default_registry)
        registry = await services.registries.find(target.name)
        if registry is None:
            raise WireError(
                errors.REGISTRY_UNKNOWN,
                f"registry '{target.name}' does not exist on this service; "
                f"registries are served at <name>.{settings.domain}",
                detail={"registry": target.name},
            )
        summary.registry = registry
        denial = network.check(registry, summary.client_ip)
        # A refused client may still ask why, by the correlation id it was given (acr_diagnostics).
        if denial is not None and not request.scope["path"].startswith(REJECTED_PREFIX):
            summary.denial = denial
            raise denial.error

        # Routes match the decoded path: the Azure SDK sends ``library%2Fhello`` in /v2/ and
        # /acr/v1/ paths alike, docker and az send plain slashes; both mean the same name.
        path = request.scope["path"]
        found = match(self.routes, request.method, path)
        if found.route is None:
            if found.allowed:
                raise WireError(
                    errors.UNSUPPORTED,
                    f"{request.method} is not supported here",
                    headers={"Allow": ", ".join(sorted(found.allowed))},
                )
            raise WireError(errors.NOT_FOUND, f"no endpoint at {path}")
        route = found.route
        summary.route = route.name
        params = found.params
        name = params.get("name")
        if name is not None and not is_repository_name(name):
            raise WireError(errors.NAME_INVALID, f"invalid repository name {name!r}", detail={"name": name})

        host = host_header.strip().lower()
        scheme = clients.scheme(request.scope, proxies)
        ctx = RequestContext(
            request=request,
            registry=registry,
            params=params,
            services=services,
            correlation_id=summary.correlation_id,
            login_server=host,
            client_ip=summary.client_ip,
            scheme=scheme,
        )
        if route.authenticate:
            decision = await services.access.authorize(
                AccessRequest(
                    registry=registry,
                    accesses=tuple(route.accesses(params)),
                    optional=tuple(route.optional_accesses(request.query_params)),
                    authorization=request.headers.get("authorization"),
                    client_ip=summary.client_ip,
                    service=host,
                    realm=f"{scheme}://{host}/oauth2/token",
                    user_agent=summary.user_agent,
                    correlation_id=summary.correlation_id,
                )
            )
            if isinstance(decision, Denial):
                summary.denial = decision
                raise decision.error
            assert isinstance(decision, Grant)
            ctx.grant = summary.grant = decision
        try:
            return await route.handler(ctx)
        finally:
            summary.operations = ctx.operations
            summary.auth = ctx.auth


class _ByteCounter:
    """Counts body bytes in and out of one request for metrics."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.bytes_in = 0
        self.bytes_out = 0
        self.body_complete = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.bytes_in += len(message.get("body", b""))
            self.body_complete = not message.get("more_body", False)
        elif message["type"] == "http.disconnect":
            self.body_complete = True
        return message

    async def discard_body(self) -> None:
        """Read and drop the rest of the request body (for at most DISCARD_SECONDS) before an
        early answer: a client still sending a blob (docker, Go's HTTP client) then reads the
        answer instead of failing its write with a broken pipe."""
        with anyio.move_on_after(DISCARD_SECONDS):
            while not self.body_complete:
                await self.receive()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            self.bytes_out += len(message.get("body", b""))
        elif message["type"] == ZERO_COPY_SEND:
            try:
                await self._send(message)
            except SendInterrupted as exc:
                self.bytes_out += exc.sent
                raise
            self.bytes_out += message["count"]
            return
        await self._send(message)
