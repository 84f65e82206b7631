"""``GET /v2/_catalog``: the registry's repositories, paginated with ``n`` and ``last``."""

from __future__ import annotations

from starlette.responses import Response

from berth.registry.context import RequestContext
from berth.registry.responses import json_response, next_link

DEFAULT_PAGE = 1000


async def list_repositories(ctx: RequestContext) -> Response:
    limit = ctx.query_int("n")
    last = ctx.query_last()
    page = DEFAULT_PAGE if limit is None else limit
    names = await ctx.repositories.catalog(last, page + 1, listed_only=True) if page > 0 else []
    headers = {}
    if len(names) > page:
        names = names[:page]
        headers["Link"] = next_link("/v2/_catalog", names[-1], limit)
    return json_response({"repositories": names}, headers=headers)
