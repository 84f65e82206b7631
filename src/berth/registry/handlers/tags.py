"""``GET /v2/<name>/tags/list``: a repository's listed tags, paginated with ``n`` and ``last``."""

from __future__ import annotations

from starlette.responses import Response

from berth.registry.context import RequestContext
from berth.registry.responses import json_response, next_link


async def list_tags(ctx: RequestContext) -> Response:
    limit = ctx.query_int("n")
    last = ctx.query_last()
    if limit == 0:
        await ctx.manifests.repository(ctx.repository)  # still 404 for an unknown repository
        return json_response({"name": ctx.repository, "tags": []})
    names = await ctx.manifests.tags(
        ctx.repository, last, None if limit is None else limit + 1, listed_only=True
    )
    headers = {}
    if limit is not None and len(names) > limit:
        names = names[:limit]
        headers["Link"] = next_link(f"/v2/{ctx.repository}/tags/list", names[-1], limit)
    return json_response({"name": ctx.repository, "tags": names}, headers=headers)
