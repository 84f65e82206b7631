"""Reading request bodies: their declared length, and whole bodies with a size bound."""

from __future__ import annotations

from starlette.requests import Request

from berth import errors
from berth.errors import WireError


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise WireError(errors.SIZE_INVALID, f"Content-Length {raw!r} is not a number")
    return int(raw)


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
