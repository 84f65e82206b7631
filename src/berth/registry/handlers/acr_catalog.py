"""``GET /acr/v1/_catalog``: ACR's repository listing, as the Azure SDK and the az CLI page it.

Same scope as ``/v2/_catalog`` (``registry:catalog:*``), but ACR's shape: pages of ``n``
(default 100) after ``last``, the next page announced as
``Link: </acr/v1/_catalog?last=<name>&n=<n>&orderby=>; rel="next"`` (the SDK requests that
URL verbatim), ``{"repositories": null}`` when there is nothing to list, and repositories
whose ``listEnabled`` attribute is off left out.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from berth.registry.context import RequestContext
from berth.registry.responses import json_response

PATH = "/acr/v1/_catalog"
DEFAULT_PAGE = 100


def next_link(last: str, limit: int) -> str:
    return f'<{PATH}?last={quote(last, safe="/")}&n={limit}&orderby=>; rel="next"'


async def list_repositories(ctx: RequestContext) -> Response:
    limit = ctx.query_int("n")
    page = DEFAULT_PAGE if limit is None else limit
    last = ctx.query_last()
    names = await ctx.repositories.catalog(last, page + 1, listed_only=True) if page > 0 else []
    headers = {}
    if len(names) > page:
        names = names[:page]
        headers["Link"] = next_link(names[-1], page)
    return json_response({"repositories": names or None}, headers=headers)
