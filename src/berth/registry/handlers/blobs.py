"""Blobs: ``GET|HEAD|DELETE /v2/<name>/blobs/<digest>``, with single byte ranges on GET."""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from berth import errors
from berth.errors import WireError
from berth.names import Digest, InvalidName
from berth.registry.context import RequestContext
from berth.registry.numbers import bounded_decimal
from berth.registry.responses import FileRangeResponse, empty, zero_copy_offered

_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# Offsets past any blob's size mean the same as the size itself; larger ones are not converted.
_MAX_OFFSET = 2**63


def parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidName as exc:
        raise WireError(errors.DIGEST_INVALID, str(exc), detail={"digest": text}) from None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(offset, length) for a single ``Range: bytes=a-b``; None for the whole blob.

    Unparsable or multi-range headers are ignored (the whole blob is sent, as RFC 9110
    allows); a range that starts past the end, or a zero-length suffix, is refused with 416.
    A suffix range of an empty blob is ignored too: no ``Content-Range`` can describe it.
    """
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first, last = (bounded_decimal(group, _MAX_OFFSET) for group in found.groups())
    if first is None and last is None:
        return None
    if first is None:  # suffix range: the last N bytes
        assert last is not None
        if last == 0:
            raise _unsatisfiable(header, size)
        if size == 0:
            return None
        length = min(last, size)
        return size - length, length
    start = first
    end = min(last, size - 1) if last is not None else size - 1
    if start >= size or end < start:
        raise _unsatisfiable(header, size)
    return start, end - start + 1


def _unsatisfiable(header: str, size: int) -> WireError:
    return WireError(
        errors.RANGE_INVALID,
        f"range {header[:80]} is not satisfiable for a blob of {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def get_blob(ctx: RequestContext) -> Response:
    digest = parse_digest(ctx.params["digest"])
    info = await ctx.blobs.stat(ctx.repository, digest)
    headers = {
        "Docker-Content-Digest": info.digest,
        "ETag": f'"{info.digest}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": "max-age=31536000",
    }
    wanted = byte_range(ctx.request.headers.get("range"), info.size)
    offset, length, status = 0, info.size, 200
    if wanted is not None:
        offset, length = wanted
        status = 206
        headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{info.size}"
    headers["Content-Length"] = str(length)
    if ctx.request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers, media_type="application/octet-stream")
    redirect = await ctx.blobs.redirect_url(info)
    if redirect is not None:
        return _redirect(redirect, info.digest)
    if zero_copy_offered(ctx.request.scope):
        local = await ctx.blobs.open_file(info, offset, length)
        if local is not None:
            return FileRangeResponse(local.file, local.offset, local.length, status, headers)
    body = await ctx.blobs.open(info, offset, length)
    if isinstance(body, bytes):
        return Response(body, status_code=status, headers=headers, media_type="application/octet-stream")
    return StreamingResponse(body, status_code=status, headers=headers, media_type="application/octet-stream")


def _redirect(url: str, digest: str) -> Response:
    """307 to the store's short-lived URL (the client repeats its GET, with its Range, there).

    HEAD is never redirected: berth answers it from the metadata database alone. The answer
    carries no ``Cache-Control``: a cache must not keep a URL that expires.
    """
    headers = {"Location": url, "Docker-Content-Digest": digest, "Content-Length": "0"}
    return Response(b"", status_code=307, headers=headers)


async def delete_blob(ctx: RequestContext) -> Response:
    digest = parse_digest(ctx.params["digest"])
    await ctx.blobs.unlink(ctx.repository, digest)
    return empty(202, {"Docker-Content-Digest": str(digest)})
