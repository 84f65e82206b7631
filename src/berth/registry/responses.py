"""Small response helpers shared by the registry-plane handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from berth.errors import JSON_CONTENT_TYPE


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
