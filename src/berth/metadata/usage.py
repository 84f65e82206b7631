"""What a registry uses: stored bytes (blobs and manifests), scope maps and tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from berth.metadata.access_schema import scope_maps, tokens
from berth.metadata.schema import blobs, manifests, repositories


@dataclass(frozen=True)
class Usage:
    size: int
    scope_maps: int
    tokens: int


def stored_bytes(conn: Connection, registry_id: str) -> int:
    """The bytes a registry stores: each distinct blob once, plus its manifests' bytes.

    Two indexed sums (blobs by their primary key's registry prefix, manifests through the
    registry's repositories); the storage quota evaluates this on each blob an upload adds, so
    ``bench``/``tests/unit/metadata/test_usage.py`` keep it cheap (docs/architecture.md).
    """
    blob_bytes = conn.execute(
        select(func.coalesce(func.sum(blobs.c.size), 0)).where(blobs.c.registry_id == registry_id)
    ).scalar_one()
    manifest_bytes = conn.execute(
        select(func.coalesce(func.sum(manifests.c.size), 0))
        .join(repositories, repositories.c.id == manifests.c.repository_id)
        .where(repositories.c.registry_id == registry_id)
    ).scalar_one()
    return int(blob_bytes) + int(manifest_bytes)


def usage(conn: Connection, registry_id: str) -> Usage:
    maps = conn.execute(
        select(func.count()).select_from(scope_maps).where(scope_maps.c.registry_id == registry_id)
    ).scalar_one()
    token_count = conn.execute(
        select(func.count()).select_from(tokens).where(tokens.c.registry_id == registry_id)
    ).scalar_one()
    return Usage(stored_bytes(conn, registry_id), int(maps), int(token_count))
