"""The request log: one line per finished request, for operators, on the ``berth.request`` logger.

Each line has the time (the log record's), the correlation id (the ``X-Ms-Correlation-Request-Id``
the client received), the client address, the registry, the method, the path (never the query
string, where a client may put a secret), the status, the bytes in and out, the duration and
the identity (a name or application id, never a credential). The registry plane writes it from
the same :class:`RequestSummary` its events and metrics come from; :class:`ServicePlaneLog`
writes it for the directory and the management API.

``request_log = false`` turns it off; ``request_log_sample = N`` keeps N % of the requests that
succeeded (status below 400) and every failed one. The lines are at ``info``: ``log_level =
warning`` hides them too.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from berth.events.observer import RequestSummary, new_correlation_id
from berth.logformat import write_info
from berth.registry import clients

REQUEST_LOGGER = "berth.request"
CORRELATION_HEADER = b"x-ms-correlation-request-id"
# Keys of ``scope["state"]`` the service plane's handlers fill for the log.
CORRELATION_STATE = "berth_correlation_id"
CALLER_STATE = "berth_caller"


def _printable(text: str) -> str:
    """``text`` with control characters escaped: a decoded path may hold ``%0a``."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def identity_of(summary: RequestSummary) -> str:
    """Who made the request, as a name (UPN, application id, token or registry name), or ""."""
    if summary.caller:
        return summary.caller
    for source in (summary.grant, summary.auth, summary.denial):
        identity = getattr(source, "identity", None)
        if identity is not None:
            label: str = identity.label
            return label
    return ""


def request_fields(summary: RequestSummary) -> dict[str, Any]:
    """The request log's fields for one request (the JSON lines' keys)."""
    return {
        "correlation_id": summary.correlation_id,
        "client": summary.client_ip,
        "registry": summary.registry.name if summary.registry is not None else None,
        "method": summary.method,
        "path": _printable(summary.path),
        "status": summary.status,
        "bytes_in": summary.bytes_in,
        "bytes_out": summary.bytes_out,
        "duration_ms": round(summary.duration_ms, 1),
        "identity": identity_of(summary) or None,
        "user_agent": _printable(summary.user_agent),
    }


def human_line(fields: dict[str, Any]) -> str:
    return (
        f"{fields['client']} {fields['registry'] or '-'} {fields['identity'] or '-'} "
        f'"{fields["method"]} {fields["path"]}" {fields["status"]} '
        f"in={fields['bytes_in']} out={fields['bytes_out']} {fields['duration_ms']}ms "
        f'cid={fields["correlation_id"]} "{fields["user_agent"]}"'
    )


class RequestLog:
    def __init__(self, enabled: bool = True, sample_percent: int = 100) -> None:
        self.enabled = enabled
        self._rate = sample_percent / 100
        self._log = logging.getLogger(REQUEST_LOGGER)

    def write(self, summary: RequestSummary) -> None:
        if not self.enabled or not self._log.isEnabledFor(logging.INFO):
            return
        if summary.status < 400 and self._rate < 1.0 and random.random() >= self._rate:
            return
        fields = request_fields(summary)
        log = self._log
        message = human_line(fields)
        if write_info(log, message, fields):
            return
        # makeRecord + handle: Logger.info would also walk the stack to find the caller (~7 us).
        log.handle(
            log.makeRecord(log.name, logging.INFO, "", 0, message, (), None, None, {"request": fields})
        )


class ServicePlaneLog:
    """ASGI wrapper logging the service plane's requests (directory, management API, /healthz).

    It gives each request a correlation id (returned as ``X-Ms-Correlation-Request-Id``, as ARM
    does) and reads the caller the handlers noted in ``scope["state"]``.
    """

    def __init__(self, app: ASGIApp, log: RequestLog, proxies: tuple[clients.Network, ...]) -> None:
        self.app = app
        self.log = log
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.log.enabled:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        correlation_id = new_correlation_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        state[CORRELATION_STATE] = correlation_id
        headers = dict(scope.get("headers") or [])
        summary = RequestSummary(
            method=scope["method"],
            path=scope["path"],
            route="service",
            status=0,
            duration_ms=0.0,
            client_ip=clients.client_ip(scope, self.proxies),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
            correlation_id=correlation_id,
            login_server="",
        )

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                summary.bytes_in += len(message.get("body", b""))
            return message

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                summary.status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (CORRELATION_HEADER, correlation_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                summary.bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, counted_send)
        finally:
            summary.status = summary.status or 500
            summary.caller = state.get(CALLER_STATE, "")
            summary.duration_ms = (time.perf_counter() - started) * 1000
            self.log.write(summary)


def note_caller(scope: Scope, name: str) -> None:
    """Record who called the service plane, for its request log line."""
    scope.setdefault("state", {})[CALLER_STATE] = name


def correlation_id_of(scope: Scope) -> str:
    """The service plane's correlation id of this request ("" outside :class:`ServicePlaneLog`)."""
    state = scope.get("state") or {}
    value: str = state.get(CORRELATION_STATE, "")
    return value
