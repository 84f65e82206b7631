"""Blob uploads: start (and mount), chunk, status, complete and cancel."""

from __future__ import annotations

import re
from dataclasses import replace

from starlette.responses import Response

from berth import errors
from berth.errors import WireError
from berth.events.observer import RepositoryOperation
from berth.metadata.blobs import UploadRecord
from berth.names import Digest, is_repository_name
from berth.registry.bodies import RequestBody, declared_length
from berth.registry.context import RequestContext
from berth.registry.handlers.blobs import parse_digest
from berth.registry.numbers import bounded_decimal
from berth.registry.responses import empty
from berth.sizes import format_size

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?$", re.ASCII)
_LARGEST = 2**63 - 1  # no session holds more; longer numbers are read as this, never converted


def _session_headers(ctx: RequestContext, upload: UploadRecord) -> dict[str, str]:
    end = upload.size - 1 if upload.size > 0 else 0
    return {
        "Location": f"/v2/{ctx.repository}/blobs/uploads/{upload.id}",
        "Range": f"0-{end}",
        "Docker-Upload-UUID": upload.id,
    }


def _blob_headers(ctx: RequestContext, digest: str) -> dict[str, str]:
    return {"Location": f"/v2/{ctx.repository}/blobs/{digest}", "Docker-Content-Digest": digest}


def _has_body(ctx: RequestContext) -> bool:
    length = declared_length(ctx.request)
    if length is not None:
        return length > 0
    return "chunked" in ctx.request.headers.get("transfer-encoding", "").lower()


def _chunk_length(ctx: RequestContext, upload: UploadRecord) -> int | None:
    """The length the request body must have, from ``Content-Range`` or ``Content-Length``."""
    length = declared_length(ctx.request)
    header = ctx.request.headers.get("content-range")
    if not header:
        return length
    found = _CONTENT_RANGE.match(header.strip())
    if found is None:
        raise WireError(
            errors.RANGE_INVALID,
            f"Content-Range {header!r} is not of the form <start>-<end>",
            headers=_session_headers(ctx, upload),
        )
    start, end = (bounded_decimal(found.group(i), _LARGEST) or 0 for i in (1, 2))
    if start != upload.size or end < start:
        raise WireError(
            errors.RANGE_INVALID,
            f"chunk {start}-{end} does not continue the upload, which has {upload.size} bytes",
            headers=_session_headers(ctx, upload),
        )
    expected = end - start + 1
    if length is not None and length != expected:
        raise WireError(
            errors.RANGE_INVALID,
            f"Content-Range covers {expected} bytes but Content-Length is {length}",
            headers=_session_headers(ctx, upload),
        )
    return expected


async def _complete(ctx: RequestContext, upload: UploadRecord, digest: Digest, with_body: bool) -> Response:
    try:
        if with_body:
            expected = _chunk_length(ctx, upload)
            await ctx.uploads.complete(upload, digest, RequestBody(ctx.request), expected)
        else:
            await ctx.uploads.complete(upload, digest)
    except WireError as exc:
        if not errors.is_storage_quota_refusal(exc):
            raise
        raise _refused_push(ctx, digest, exc) from None
    return empty(201, _blob_headers(ctx, str(digest)))


def _refused_push(ctx: RequestContext, digest: Digest, refusal: WireError) -> WireError:
    """A push refused by the storage quota: a failed Push event with its reason, and the
    correlation id in the message, so that ``berth acr diagnose`` finds it either way."""
    facts = refusal.detail if isinstance(refusal.detail, dict) else {}
    used, quota, size = (int(facts.get(key, 0)) for key in ("used", "quota", "size"))
    ctx.record(
        RepositoryOperation(
            "Push",
            ctx.repository,
            digest=str(digest),
            size=size,
            reason=errors.STORAGE_QUOTA_REASON,
            detail=(
                f"registry '{ctx.registry.name}' stores {format_size(used)} of its {format_size(quota)} "
                f"storage quota, and the push of a blob of {format_size(size)} to {ctx.repository} was "
                "refused because it would exceed it"
            ),
        )
    )
    return replace(refusal, message=f"{refusal.text} (correlation id {ctx.correlation_id})")


async def start_upload(ctx: RequestContext) -> Response:
    query = ctx.request.query_params
    mount, source = query.get("mount"), query.get("from")
    if mount:
        digest = parse_digest(mount)
        if source is not None and not is_repository_name(source):
            raise WireError(
                errors.NAME_INVALID, f"invalid repository name {source!r}", detail={"name": source}
            )
        mounted = await ctx.blobs.mount(ctx.repository, digest, source, ctx.may_pull)
        if mounted is not None:
            return empty(201, _blob_headers(ctx, mounted.digest))
    upload = await ctx.uploads.start(ctx.repository)
    requested = query.get("digest")
    if requested is not None:
        return await _complete(ctx, upload, parse_digest(requested), with_body=True)
    return empty(202, _session_headers(ctx, upload))


async def upload_status(ctx: RequestContext) -> Response:
    upload = await ctx.uploads.get(ctx.repository, ctx.params["upload"])
    return empty(204, _session_headers(ctx, upload))


async def upload_chunk(ctx: RequestContext) -> Response:
    upload = await ctx.uploads.get(ctx.repository, ctx.params["upload"])
    upload = await ctx.uploads.write_chunk(upload, RequestBody(ctx.request), _chunk_length(ctx, upload))
    return empty(202, _session_headers(ctx, upload))


async def complete_upload(ctx: RequestContext) -> Response:
    requested = ctx.request.query_params.get("digest")
    if not requested:
        raise WireError(errors.DIGEST_INVALID, "the digest query parameter is required to complete an upload")
    digest = parse_digest(requested)
    upload = await ctx.uploads.get(ctx.repository, ctx.params["upload"])
    return await _complete(ctx, upload, digest, with_body=_has_body(ctx))


async def cancel_upload(ctx: RequestContext) -> Response:
    upload = await ctx.uploads.get(ctx.repository, ctx.params["upload"])
    await ctx.uploads.cancel(upload)
    return empty(204)
