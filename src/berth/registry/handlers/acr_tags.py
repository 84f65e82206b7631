"""``GET /acr/v1/<name>/_tags`` and ``GET|PATCH|DELETE /acr/v1/<name>/_tags/<tag>``."""

from __future__ import annotations

from starlette.responses import Response

from berth.events.observer import RepositoryOperation
from berth.registry.context import RequestContext
from berth.registry.handlers.acr_common import (
    Page,
    artifacts,
    envelope,
    link_header,
    read_changes,
    tag_json,
    tag_param,
)
from berth.registry.handlers.blobs import parse_digest
from berth.registry.responses import empty, json_response


async def list_tags(ctx: RequestContext) -> Response:
    """Listed tags by name (or by time with ``orderby``), optionally only those of ``digest``."""
    page = Page.of(ctx)
    raw_digest = ctx.request.query_params.get("digest")
    digest = str(parse_digest(raw_digest)) if raw_digest else None
    records = (
        await artifacts(ctx).tags(ctx.repository, page.last, page.fetch, page.order, digest)
        if page.size > 0
        else []
    )
    document = envelope(ctx)
    headers: dict[str, str] = {}
    if len(records) > page.size:
        records = records[: page.size]
        extra = {"digest": digest} if digest else {}
        url = page.link(f"/acr/v1/{ctx.repository}/_tags", records[-1].name, **extra)
        headers = link_header(url)
    elif page.size == 0:
        await artifacts(ctx).repository(ctx.repository)  # still 404 for an unknown repository
    document["tags"] = [tag_json(record) for record in records]
    return json_response(document, headers=headers)


async def get_tag(ctx: RequestContext) -> Response:
    record = await artifacts(ctx).tag(ctx.repository, tag_param(ctx))
    return json_response({**envelope(ctx), "tag": tag_json(record)})


async def update_tag(ctx: RequestContext) -> Response:
    tag = tag_param(ctx)
    changes = await read_changes(ctx)
    record = await artifacts(ctx).update_tag(ctx.repository, tag, changes)
    return json_response({**envelope(ctx), "tag": tag_json(record)})


async def delete_tag(ctx: RequestContext) -> Response:
    """Untag: 202; the manifest stays. Refused while the tag or repository is delete-locked."""
    untagged = await artifacts(ctx).untag(ctx.repository, tag_param(ctx))
    ctx.record(RepositoryOperation("Untag", ctx.repository, tag=untagged.tag, digest=untagged.digest))
    return empty(202)
