"""Small response helpers shared by the registry-plane handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, BinaryIO
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from berth.errors import JSON_CONTENT_TYPE
from berth.sendfile import ZERO_COPY_SEND


def json_response(
    document: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON_CONTENT_TYPE,
) -> Response:
    body = json.dumps(document, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=media_type)


def empty(status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=dict(headers or {}))


def next_link(path: str, last: str, limit: int | None, **extra: str) -> str:
    """A ``Link`` header pointing at the next page after ``last``."""
    query: dict[str, str] = {}
    if limit is not None:
        query["n"] = str(limit)
    query["last"] = last
    query.update(extra)
    return f'<{path}?{urlencode(query)}>; rel="next"'


class FileRangeResponse(Response):
    """A byte range of an open file, sent by the server with ``http.response.zerocopysend``
    (:mod:`berth.sendfile`), so the bytes never pass through Python.

    Use it only when ``scope["extensions"]`` offers that extension (:func:`zero_copy_offered`).
    The response owns ``file`` and closes it once sent, or when the client is gone.
    """

    def __init__(
        self, file: BinaryIO, offset: int, length: int, status_code: int, headers: Mapping[str, str]
    ) -> None:
        super().__init__(None, status_code, dict(headers), "application/octet-stream")
        self.file = file
        self.offset = offset
        self.length = length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.file:
            start = {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            await send(start)
            await send(
                {"type": ZERO_COPY_SEND, "file": self.file, "offset": self.offset, "count": self.length}
            )


def zero_copy_offered(scope: Scope) -> bool:
    return ZERO_COPY_SEND in (scope.get("extensions") or ())
