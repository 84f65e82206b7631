"""Reading request bodies: their declared length, and whole bodies with a size bound."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from berth import errors
from berth.direct_bodies import DIRECT_BODY, DirectBody
from berth.errors import WireError
from berth.registry.numbers import bounded_decimal

# Sizes are kept in signed 64-bit columns.
MAX_CONTENT_LENGTH = 2**63 - 1


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    value = bounded_decimal(raw.strip(), MAX_CONTENT_LENGTH + 1)
    if value is None:
        raise WireError(errors.SIZE_INVALID, f"Content-Length {raw[:40]!r} is not a number")
    if value > MAX_CONTENT_LENGTH:
        raise WireError(errors.SIZE_INVALID, f"Content-Length {raw[:40]!r} is larger than berth stores")
    return value


async def read_limited(request: Request, limit: int, too_large: WireError) -> bytes:
    """The whole body, refusing (with ``too_large``) anything over ``limit`` bytes."""
    length = declared_length(request)
    if length is not None and length > limit:
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


class RequestBody:
    """A request's body for the content layer: its chunks as they arrive, and the body as a
    :class:`~berth.direct_bodies.DirectBody` when the server offers to let a thread read it
    from the socket (plain HTTP, with a ``Content-Length``)."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._request.stream()

    def direct_body(self) -> DirectBody | None:
        offered = self._request.scope.get("extensions", {}).get(DIRECT_BODY)
        return offered["body"] if offered else None
