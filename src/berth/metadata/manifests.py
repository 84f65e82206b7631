"""Manifests, what they reference, and who refers to them (the referrers index)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update

from berth.metadata.repositories import ATTRIBUTE_COLUMNS, Attributes
from berth.metadata.schema import manifest_references, manifests, repositories, tags
from berth.metadata.usage import add_stored


@dataclass(frozen=True)
class Reference:
    digest: str
    kind: str  # "blob" or "manifest"
    os: str | None = None
    architecture: str | None = None


@dataclass(frozen=True)
class ManifestInput:
    """What the content layer learned from a manifest it validated."""

    digest: str
    media_type: str
    content: bytes
    artifact_type: str | None = None
    subject: str | None = None
    annotations: Mapping[str, str] | None = None
    config_digest: str | None = None
    image_size: int = 0
    architecture: str | None = None
    os: str | None = None
    references: Sequence[Reference] = field(default_factory=tuple)


@dataclass(frozen=True)
class ManifestRecord:
    id: int
    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    subject: str | None
    annotations: dict[str, str] | None
    config_digest: str | None
    image_size: int
    architecture: str | None
    os: str | None
    created_at: float
    updated_at: float
    attributes: Attributes


def record_from(row: Mapping[Any, Any]) -> ManifestRecord:
    return ManifestRecord(
        id=row["id"],
        digest=row["digest"],
        media_type=row["media_type"],
        size=row["size"],
        artifact_type=row["artifact_type"],
        subject=row["subject"],
        annotations=json.loads(row["annotations"]) if row["annotations"] else None,
        config_digest=row["config_digest"],
        image_size=row["image_size"],
        architecture=row["architecture"],
        os=row["os"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attributes=Attributes.of(row),
    )


_COLUMNS_WITHOUT_CONTENT = [c for c in manifests.c if c.name != "content"]


def get(conn: Connection, repository_id: int, digest: str) -> ManifestRecord | None:
    row = (
        conn.execute(
            select(*_COLUMNS_WITHOUT_CONTENT).where(
                manifests.c.repository_id == repository_id, manifests.c.digest == digest
            )
        )
        .mappings()
        .first()
    )
    return record_from(row) if row else None


def exists(conn: Connection, repository_id: int, digest: str) -> bool:
    query = select(manifests.c.id).where(
        manifests.c.repository_id == repository_id, manifests.c.digest == digest
    )
    return conn.execute(query).first() is not None


def missing(conn: Connection, repository_id: int, digests: Sequence[str]) -> list[str]:
    """The digests among ``digests`` that name no manifest of the repository, in one query."""
    if not digests:
        return []
    query = select(manifests.c.digest).where(
        manifests.c.repository_id == repository_id, manifests.c.digest.in_(list(digests))
    )
    present = {row[0] for row in conn.execute(query)}
    return [digest for digest in digests if digest not in present]


def put(conn: Connection, repository_id: int, manifest: ManifestInput) -> bool:
    """Store a manifest; returns False when the same digest was already stored (a no-op)."""
    if exists(conn, repository_id, manifest.digest):
        return False
    now = time.time()
    result = conn.execute(
        manifests.insert().values(
            repository_id=repository_id,
            digest=manifest.digest,
            media_type=manifest.media_type,
            artifact_type=manifest.artifact_type,
            size=len(manifest.content),
            content=manifest.content,
            subject=manifest.subject,
            annotations=json.dumps(dict(manifest.annotations)) if manifest.annotations else None,
            config_digest=manifest.config_digest,
            image_size=manifest.image_size,
            architecture=manifest.architecture,
            os=manifest.os,
            created_at=now,
            updated_at=now,
        )
    )
    add_stored(conn, _registry_of(conn, repository_id), len(manifest.content))
    manifest_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    seen: set[tuple[str, str]] = set()
    rows = []
    for ref in manifest.references:
        if (ref.digest, ref.kind) in seen:
            continue
        seen.add((ref.digest, ref.kind))
        rows.append(
            {
                "manifest_id": manifest_id,
                "digest": ref.digest,
                "kind": ref.kind,
                "platform_os": ref.os,
                "platform_architecture": ref.architecture,
            }
        )
    if rows:
        conn.execute(manifest_references.insert(), rows)
    return True


def references(conn: Connection, manifest_id: int) -> list[Reference]:
    query = select(manifest_references).where(manifest_references.c.manifest_id == manifest_id)
    return [
        Reference(row["digest"], row["kind"], row["platform_os"], row["platform_architecture"])
        for row in conn.execute(query).mappings()
    ]


def remove(conn: Connection, repository_id: int, digest: str) -> list[str]:
    """Delete a manifest and the tags that point at it; returns the removed tag names."""
    removed = [
        row[0]
        for row in conn.execute(
            select(tags.c.name).where(tags.c.repository_id == repository_id, tags.c.digest == digest)
        )
    ]
    conn.execute(delete(tags).where(tags.c.repository_id == repository_id, tags.c.digest == digest))
    size = conn.execute(
        select(manifests.c.size).where(
            manifests.c.repository_id == repository_id, manifests.c.digest == digest
        )
    ).scalar_one_or_none()
    conn.execute(
        delete(manifests).where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
    )
    if size is not None:
        add_stored(conn, _registry_of(conn, repository_id), -int(size))
    return removed


def _registry_of(conn: Connection, repository_id: int) -> str:
    return str(
        conn.execute(
            select(repositories.c.registry_id).where(repositories.c.id == repository_id)
        ).scalar_one()
    )


def referrers(
    conn: Connection, repository_id: int, subject: str, artifact_type: str | None = None
) -> list[ManifestRecord]:
    query = (
        select(*_COLUMNS_WITHOUT_CONTENT)
        .where(manifests.c.repository_id == repository_id, manifests.c.subject == subject)
        .order_by(manifests.c.created_at, manifests.c.digest)
    )
    if artifact_type is not None:
        query = query.where(manifests.c.artifact_type == artifact_type)
    return [record_from(row) for row in conn.execute(query).mappings()]


def list_all(
    conn: Connection,
    repository_id: int,
    last: str | None = None,
    limit: int | None = None,
    order_by_time: str | None = None,
    *,
    listed_only: bool = False,
) -> list[ManifestRecord]:
    """Manifests by digest, or by ``updated_at`` (``timedesc``/``timeasc``), after ``last``.

    With a time order, ``last`` is still a digest: the page continues after that manifest's
    place in the order (a vanished ``last`` ends the listing rather than restarting it).
    ``listed_only`` leaves out manifests whose ``listEnabled`` is false.
    """
    query = select(*_COLUMNS_WITHOUT_CONTENT).where(manifests.c.repository_id == repository_id)
    if listed_only:
        query = query.where(manifests.c.list_enabled.is_(True))
    if order_by_time in ("timedesc", "timeasc"):
        descending = order_by_time == "timedesc"
        column = manifests.c.updated_at
        if last:
            anchor = conn.execute(
                select(column).where(manifests.c.repository_id == repository_id, manifests.c.digest == last)
            ).scalar()
            if anchor is None:
                return []
            beyond = column < anchor if descending else column > anchor
            query = query.where(or_(beyond, and_(column == anchor, manifests.c.digest > last)))
        query = query.order_by(column.desc() if descending else column.asc(), manifests.c.digest)
    else:
        query = query.order_by(manifests.c.digest)
        if last:
            query = query.where(manifests.c.digest > last)
    if limit is not None:
        query = query.limit(limit)
    return [record_from(row) for row in conn.execute(query).mappings()]


def child_references(conn: Connection, manifest_ids: Sequence[int]) -> dict[int, list[Reference]]:
    """The child manifests (with platforms) of each index or list among ``manifest_ids``."""
    found: dict[int, list[Reference]] = {}
    if not manifest_ids:
        return found
    query = (
        select(manifest_references)
        .where(
            manifest_references.c.manifest_id.in_(list(manifest_ids)),
            manifest_references.c.kind == "manifest",
        )
        .order_by(manifest_references.c.manifest_id, manifest_references.c.digest)
    )
    for row in conn.execute(query).mappings():
        found.setdefault(row["manifest_id"], []).append(
            Reference(row["digest"], row["kind"], row["platform_os"], row["platform_architecture"])
        )
    return found


def all_digests(conn: Connection, repository_id: int) -> list[str]:
    query = select(manifests.c.digest).where(manifests.c.repository_id == repository_id)
    return [row[0] for row in conn.execute(query)]


def set_attributes(conn: Connection, repository_id: int, digest: str, changes: Mapping[str, bool]) -> None:
    values: dict[str, object] = {k: v for k, v in changes.items() if k in ATTRIBUTE_COLUMNS}
    values["updated_at"] = time.time()
    conn.execute(
        update(manifests)
        .where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
        .values(**values)
    )
