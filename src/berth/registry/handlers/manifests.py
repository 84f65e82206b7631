"""Manifests: ``GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>``."""

from __future__ import annotations

from starlette.responses import Response

from berth import errors
from berth.content.manifest_format import MAX_MANIFEST_BYTES, accepts
from berth.errors import WireError
from berth.events.observer import RepositoryOperation
from berth.registry.bodies import read_limited
from berth.registry.context import RequestContext
from berth.registry.responses import empty

_TOO_LARGE = WireError(errors.SIZE_INVALID, "manifest exceeds the 4 MiB limit", status=413)


async def get_manifest(ctx: RequestContext) -> Response:
    reference = ctx.params["reference"]
    stored = await ctx.manifests.get(ctx.repository, reference)
    if not accepts(",".join(ctx.request.headers.getlist("accept")), stored.media_type):
        raise WireError(
            errors.MANIFEST_UNKNOWN,
            f"manifest {stored.digest} has media type {stored.media_type}, which the Accept header excludes",
            detail={"mediaType": stored.media_type},
        )
    headers = {
        "Docker-Content-Digest": stored.digest,
        "ETag": f'"{stored.digest}"',
        "Content-Length": str(len(stored.content)),
    }
    if ctx.request.method == "HEAD":
        return Response(b"", headers=headers, media_type=stored.media_type)
    ctx.record(
        RepositoryOperation(
            "Pull",
            ctx.repository,
            tag="" if ":" in reference else reference,
            digest=stored.digest,
            media_type=stored.media_type,
            artifact_type=stored.record.artifact_type or "",
            size=stored.record.size,
        )
    )
    return Response(stored.content, headers=headers, media_type=stored.media_type)


async def put_manifest(ctx: RequestContext) -> Response:
    reference = ctx.params["reference"]
    body = await read_limited(ctx.request, MAX_MANIFEST_BYTES, _TOO_LARGE)
    result = await ctx.manifests.put(ctx.repository, reference, body, ctx.request.headers.get("content-type"))
    headers = {
        "Location": f"/v2/{ctx.repository}/manifests/{result.digest}",
        "Docker-Content-Digest": result.digest,
    }
    if result.subject:
        headers["OCI-Subject"] = result.subject
    ctx.record(
        RepositoryOperation(
            "Push",
            ctx.repository,
            tag="" if ":" in reference else reference,
            digest=result.digest,
            media_type=result.media_type,
            artifact_type=result.artifact_type or "",
            size=len(body),
        )
    )
    return empty(201, headers)


async def delete_manifest(ctx: RequestContext) -> Response:
    reference = ctx.params["reference"]
    removed = await ctx.manifests.delete(ctx.repository, reference)
    if ":" in reference:
        ctx.record(RepositoryOperation("Delete", ctx.repository, digest=reference, tag=",".join(removed)))
    else:
        ctx.record(RepositoryOperation("Untag", ctx.repository, tag=reference))
    return empty(202)
