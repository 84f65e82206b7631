"""The pull hot path in one prepared statement: repository, tag and manifest of a manifest GET.

Built once at import with bind parameters, so a request pays neither statement construction
nor more than one round trip to the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Label, Table, and_, bindparam, select

from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.schema import blobs, manifests, repositories, repository_blobs, tags


@dataclass(frozen=True)
class PullLookup:
    repository: repository_rows.RepositoryRecord | None
    manifest: manifest_rows.ManifestRecord | None
    content: bytes | None
    tag: repository_rows.TagRecord | None


def _labelled(table: Table, prefix: str) -> list[Label[Any]]:
    return [column.label(prefix + column.name) for column in table.c]


def _part(row: Mapping[Any, Any], prefix: str) -> dict[str, Any]:
    return {str(key)[len(prefix) :]: value for key, value in row.items() if str(key).startswith(prefix)}


_WHERE = (
    repositories.c.registry_id == bindparam("registry_id"),
    repositories.c.name == bindparam("repository"),
)
_BY_TAG = (
    select(*_labelled(repositories, "r_"), *_labelled(tags, "t_"), *_labelled(manifests, "m_"))
    .select_from(
        repositories.outerjoin(
            tags, and_(tags.c.repository_id == repositories.c.id, tags.c.name == bindparam("reference"))
        ).outerjoin(
            manifests,
            and_(manifests.c.repository_id == repositories.c.id, manifests.c.digest == tags.c.digest),
        )
    )
    .where(*_WHERE)
)
_BY_DIGEST = (
    select(*_labelled(repositories, "r_"), *_labelled(manifests, "m_"))
    .select_from(
        repositories.outerjoin(
            manifests,
            and_(
                manifests.c.repository_id == repositories.c.id, manifests.c.digest == bindparam("reference")
            ),
        )
    )
    .where(*_WHERE)
)


def lookup(
    conn: Connection, registry_id: str, repository: str, reference: str, *, by_tag: bool
) -> PullLookup:
    statement = _BY_TAG if by_tag else _BY_DIGEST
    parameters = {"registry_id": registry_id, "repository": repository, "reference": reference}
    row = conn.execute(statement, parameters).mappings().first()
    if row is None:
        return PullLookup(None, None, None, None)
    repo = repository_rows.repository_from(_part(row, "r_"))
    tag_part = _part(row, "t_")
    tag = repository_rows.tag_from(tag_part) if by_tag and tag_part.get("name") is not None else None
    manifest_part = _part(row, "m_")
    if manifest_part.get("id") is None:
        return PullLookup(repo, None, None, tag)
    return PullLookup(repo, manifest_rows.record_from(manifest_part), bytes(manifest_part["content"]), tag)


_BLOB = (
    select(*_labelled(repositories, "r_"), blobs.c.size.label("b_size"))
    .select_from(
        repositories.outerjoin(
            repository_blobs,
            and_(
                repository_blobs.c.repository_id == repositories.c.id,
                repository_blobs.c.digest == bindparam("digest"),
            ),
        ).outerjoin(
            blobs,
            and_(
                blobs.c.registry_id == repositories.c.registry_id, blobs.c.digest == repository_blobs.c.digest
            ),
        )
    )
    .where(*_WHERE)
)


def blob_lookup(
    conn: Connection, registry_id: str, repository: str, digest: str
) -> tuple[repository_rows.RepositoryRecord | None, int | None]:
    """The repository and the size of a blob it links (None when it does not link it)."""
    parameters = {"registry_id": registry_id, "repository": repository, "digest": digest}
    row = conn.execute(_BLOB, parameters).mappings().first()
    if row is None:
        return None, None
    size = row["b_size"]
    return repository_rows.repository_from(_part(row, "r_")), int(size) if size is not None else None
