"""``GET /v2/<name>/referrers/<digest>``: manifests whose ``subject`` is the digest (OCI 1.1)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from berth import errors
from berth.content.manifest_format import OCI_INDEX
from berth.errors import WireError
from berth.names import Digest, InvalidName
from berth.registry.context import RequestContext
from berth.registry.responses import json_response


async def list_referrers(ctx: RequestContext) -> Response:
    try:
        subject = Digest.parse(ctx.params["digest"])
    except InvalidName as exc:
        raise WireError(errors.DIGEST_INVALID, str(exc), detail={"digest": ctx.params["digest"]}) from None
    artifact_type = ctx.request.query_params.get("artifactType") or None
    if artifact_type is not None and not artifact_type.isprintable():
        records = []  # stored artifact types are printable (manifest_format refuses others)
    else:
        records = await ctx.manifests.referrers(ctx.repository, subject, artifact_type)
    descriptors: list[dict[str, Any]] = []
    for record in records:
        descriptor: dict[str, Any] = {
            "mediaType": record.media_type,
            "digest": record.digest,
            "size": record.size,
        }
        if record.artifact_type:
            descriptor["artifactType"] = record.artifact_type
        if record.annotations:
            descriptor["annotations"] = record.annotations
        descriptors.append(descriptor)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    return json_response(document, headers=headers, media_type=OCI_INDEX)
