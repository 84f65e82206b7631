"""``GET /acr/v1/<name>/_manifests`` and ``GET|PATCH /acr/v1/<name>/_manifests/<digest>``.

Deleting a manifest goes through ``DELETE /v2/<name>/manifests/<digest>``, as in ACR.
"""

from __future__ import annotations

from starlette.responses import Response

from berth.registry.context import RequestContext
from berth.registry.handlers.acr_common import (
    Page,
    artifacts,
    envelope,
    link_header,
    manifest_json,
    read_changes,
)
from berth.registry.handlers.blobs import parse_digest
from berth.registry.responses import json_response


async def list_manifests(ctx: RequestContext) -> Response:
    """Listed manifests by digest (or by time with ``orderby``), with their tags."""
    page = Page.of(ctx)
    items = (
        await artifacts(ctx).manifests(ctx.repository, page.last, page.fetch, page.order)
        if page.size > 0
        else []
    )
    document = envelope(ctx)
    headers: dict[str, str] = {}
    if len(items) > page.size:
        items = items[: page.size]
        url = page.link(f"/acr/v1/{ctx.repository}/_manifests", items[-1].record.digest)
        headers = link_header(url)
    elif page.size == 0:
        await artifacts(ctx).repository(ctx.repository)  # still 404 for an unknown repository
    document["manifests"] = [manifest_json(item) for item in items]
    return json_response(document, headers=headers)


async def get_manifest(ctx: RequestContext) -> Response:
    digest = str(parse_digest(ctx.params["digest"]))
    properties = await artifacts(ctx).manifest(ctx.repository, digest)
    return json_response({**envelope(ctx), "manifest": manifest_json(properties)})


async def update_manifest(ctx: RequestContext) -> Response:
    digest = str(parse_digest(ctx.params["digest"]))
    changes = await read_changes(ctx)
    properties = await artifacts(ctx).update_manifest(ctx.repository, digest, changes)
    return json_response({**envelope(ctx), "manifest": manifest_json(properties)})
