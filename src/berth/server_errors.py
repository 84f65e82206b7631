"""One log line for every answer with a 5xx status, whichever plane or layer produced it.

Operators see at once that berth failed a request (and its correlation id); the end-to-end
suites scan the server log for these lines and fail any test during which one was written
(tests/support/server_errors.py). The line is ``answered <status> to <METHOD> <path>``.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("berth.http")

_CORRELATION = b"x-ms-correlation-request-id"


class ServerErrorLog:
    """ASGI wrapper: logs each 5xx answer (the path without its query, which may hold secrets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                correlation = next(
                    (value.decode() for name, value in message.get("headers", ()) if name == _CORRELATION), ""
                )
                log.warning(
                    "answered %d to %s %s%s",
                    message["status"],
                    scope["method"],
                    scope["path"],
                    f" (correlation id {correlation})" if correlation else "",
                )
            await send(message)

        await self.app(scope, receive, watch)
