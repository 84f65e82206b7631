"""``GET|PATCH|DELETE /acr/v1/<name>``: a repository's properties, attributes and deletion."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from berth.content.artifacts import RepositoryProperties
from berth.events.observer import RepositoryOperation
from berth.registry.context import RequestContext
from berth.registry.handlers.acr_common import (
    acr_time,
    artifacts,
    attributes_json,
    envelope,
    read_changes,
)
from berth.registry.responses import json_response


def _properties(ctx: RequestContext, properties: RepositoryProperties) -> dict[str, Any]:
    record = properties.record
    return {
        **envelope(ctx),
        "createdTime": acr_time(record.created_at),
        "lastUpdateTime": acr_time(record.updated_at),
        "manifestCount": properties.manifest_count,
        "tagCount": properties.tag_count,
        "changeableAttributes": attributes_json(record.attributes),
    }


async def get_repository(ctx: RequestContext) -> Response:
    return json_response(_properties(ctx, await artifacts(ctx).repository(ctx.repository)))


async def update_repository(ctx: RequestContext) -> Response:
    changes = await read_changes(ctx)
    properties = await artifacts(ctx).update_repository(ctx.repository, changes)
    return json_response(_properties(ctx, properties))


async def delete_repository(ctx: RequestContext) -> Response:
    """202 with what was removed; refused while the repository or anything in it is delete-locked."""
    deleted = await ctx.repositories.delete(ctx.repository)
    ctx.record(RepositoryOperation("Delete", ctx.repository, tag=",".join(deleted.tags)))
    return json_response({"manifestsDeleted": deleted.manifests, "tagsDeleted": deleted.tags}, status=202)
