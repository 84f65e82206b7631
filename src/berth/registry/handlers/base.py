"""``GET /v2/``: the API version check."""

from __future__ import annotations

from starlette.responses import Response

from berth.registry.context import RequestContext
from berth.registry.responses import json_response


async def ping(ctx: RequestContext) -> Response:
    return json_response({})
