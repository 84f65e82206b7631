"""What the ``/acr/v1/`` handlers share: ACR's JSON shapes, paging and PATCH bodies."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from berth import errors
from berth.content.artifacts import ATTRIBUTE_NAMES, ArtifactService, ManifestProperties
from berth.errors import WireError
from berth.metadata.repositories import Attributes, TagRecord
from berth.names import is_tag
from berth.registry.bodies import read_limited
from berth.registry.context import RequestContext

DEFAULT_PAGE = 100
MAX_PAGE = 1000
_ORDERS = {"": None, "none": None, "timedesc": "timedesc", "timeasc": "timeasc"}
_MAX_BODY = 64 * 1024
_BODY_TOO_LARGE = WireError(errors.PAYLOAD_TOO_LARGE, "the attribute body is larger than 64 KiB")


def artifacts(ctx: RequestContext) -> ArtifactService:
    return ArtifactService(ctx.registry.id, ctx.services.db, ctx.services.pull_cache)


def acr_time(seconds: float) -> str:
    """``2021-05-05T20:21:23.8613716Z``: UTC with seven fractional digits, as ACR writes times."""
    ticks = round(seconds * 10_000_000)
    whole, fraction = divmod(ticks, 10_000_000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{fraction:07d}Z"


def attributes_json(attributes: Attributes) -> dict[str, bool]:
    return {
        "deleteEnabled": attributes.delete_enabled,
        "writeEnabled": attributes.write_enabled,
        "readEnabled": attributes.read_enabled,
        "listEnabled": attributes.list_enabled,
    }


def envelope(ctx: RequestContext) -> dict[str, Any]:
    """The ``registry`` and ``imageName`` every repository-level answer starts with."""
    return {"registry": ctx.login_server, "imageName": ctx.repository}


def tag_json(tag: TagRecord) -> dict[str, Any]:
    return {
        "name": tag.name,
        "digest": tag.digest,
        "createdTime": acr_time(tag.created_at),
        "lastUpdateTime": acr_time(tag.updated_at),
        "signed": False,
        "changeableAttributes": attributes_json(tag.attributes),
    }


def manifest_json(manifest: ManifestProperties) -> dict[str, Any]:
    record = manifest.record
    document: dict[str, Any] = {
        "digest": record.digest,
        "imageSize": record.image_size,
        "createdTime": acr_time(record.created_at),
        "lastUpdateTime": acr_time(record.updated_at),
    }
    if record.architecture:
        document["architecture"] = record.architecture
    if record.os:
        document["os"] = record.os
    document["mediaType"] = record.media_type
    if manifest.children:
        document["references"] = [
            {
                "digest": child.digest,
                **({"architecture": child.architecture} if child.architecture else {}),
                **({"os": child.os} if child.os else {}),
            }
            for child in manifest.children
        ]
    document["tags"] = manifest.tags
    document["changeableAttributes"] = attributes_json(record.attributes)
    return document


def tag_param(ctx: RequestContext) -> str:
    tag = ctx.params["tag"]
    if not is_tag(tag):
        raise WireError(errors.TAG_INVALID, f"invalid tag {tag!r}", detail={"tag": tag})
    return tag


# --- paging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """``n``, ``last`` and ``orderby`` of a listing request."""

    last: str | None
    size: int
    order: str | None

    @classmethod
    def of(cls, ctx: RequestContext) -> Page:
        query = ctx.request.query_params
        requested = ctx.query_int("n")
        size = DEFAULT_PAGE if requested is None else min(requested, MAX_PAGE)
        raw_order = query.get("orderby", "")
        if raw_order.lower() not in _ORDERS:
            raise WireError(
                errors.BAD_REQUEST,
                f"orderby={raw_order[:40]!r} is not supported; use timedesc or timeasc",
                detail={"orderby": raw_order},
            )
        return cls(ctx.query_last(), size, _ORDERS[raw_order.lower()])

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than a page tells whether a next page exists."""
        return self.size + 1

    def link(self, path: str, last: str, **extra: str) -> str:
        """The next page's URL, in ACR's ``last``, ``n``, ``orderby`` order."""
        query = {"last": last, "n": str(self.size), "orderby": self.order or "", **extra}
        return f"{path}?{urlencode(query)}"


def link_header(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="next"'}


# --- PATCH bodies -----------------------------------------------------------------------------


async def read_changes(ctx: RequestContext) -> dict[str, bool]:
    """The changeable attributes a PATCH body sets: any of the four, each a JSON boolean."""
    body = await read_limited(ctx.request, _MAX_BODY, _BODY_TOO_LARGE)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WireError(
            errors.BAD_REQUEST,
            "the body must be a JSON object of changeable attributes "
            "(deleteEnabled, writeEnabled, readEnabled, listEnabled)",
        ) from None
    if not isinstance(document, dict):
        raise WireError(
            errors.BAD_REQUEST,
            "the body must be a JSON object of changeable attributes "
            "(deleteEnabled, writeEnabled, readEnabled, listEnabled)",
        )
    changes: dict[str, bool] = {}
    for name, value in document.items():
        if name not in ATTRIBUTE_NAMES:
            raise WireError(
                errors.BAD_REQUEST,
                f"{name!r} is not a changeable attribute; use deleteEnabled, writeEnabled, "
                "readEnabled or listEnabled",
                detail={"field": name},
            )
        if not isinstance(value, bool):
            raise WireError(
                errors.BAD_REQUEST,
                f"{name} must be true or false, not {json.dumps(value)}",
                detail={"field": name},
            )
        changes[name] = value
    return changes
