"""Blobs a registry holds, which repositories link them, and upload sessions."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from berth.metadata.database import upsert
from berth.metadata.repositories import RepositoryRecord, repository_from
from berth.metadata.schema import blobs, repositories, repository_blobs, upload_parts, uploads
from berth.metadata.usage import add_stored


@dataclass(frozen=True)
class UploadPart:
    name: str
    start: int
    size: int


@dataclass(frozen=True)
class UploadRecord:
    id: str
    registry_id: str
    repository: str
    size: int
    created_at: float
    updated_at: float
    parts: tuple[UploadPart, ...] = ()

    @property
    def consistent(self) -> bool:
        """The accepted parts follow each other from 0 and add up to the session's size."""
        position = 0
        for part in self.parts:
            if part.start != position:
                return False
            position += part.size
        return position == self.size

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts)


def registry_blob_size(conn: Connection, registry_id: str, digest: str) -> int | None:
    query = select(blobs.c.size).where(blobs.c.registry_id == registry_id, blobs.c.digest == digest)
    row = conn.execute(query).first()
    return int(row[0]) if row else None


def repositories_linking(
    conn: Connection, registry_id: str, digest: str, only: str | None = None
) -> list[RepositoryRecord]:
    """The repositories of a registry that link a blob (just ``only``, when given), by name."""
    query = (
        select(repositories)
        .join(repository_blobs, repository_blobs.c.repository_id == repositories.c.id)
        .where(repositories.c.registry_id == registry_id, repository_blobs.c.digest == digest)
        .order_by(repositories.c.name)
    )
    if only is not None:
        query = query.where(repositories.c.name == only)
    return [repository_from(row) for row in conn.execute(query).mappings()]


def forget_blob(conn: Connection, registry_id: str, digest: str) -> None:
    """Forget a blob's bytes (they failed verification): it is unknown until pushed again.

    Repositories keep their links, so the next push of the digest makes them whole again.
    """
    size = registry_blob_size(conn, registry_id, digest)
    conn.execute(delete(blobs).where(blobs.c.registry_id == registry_id, blobs.c.digest == digest))
    add_stored(conn, registry_id, -(size or 0))


def missing_links(conn: Connection, repository_id: int, digests: list[str]) -> list[str]:
    """The digests among ``digests`` that the repository does not link."""
    if not digests:
        return []
    query = select(repository_blobs.c.digest).where(
        repository_blobs.c.repository_id == repository_id, repository_blobs.c.digest.in_(digests)
    )
    present = {row[0] for row in conn.execute(query)}
    return [d for d in digests if d not in present]


def record_blob(conn: Connection, registry_id: str, digest: str, size: int) -> None:
    """Record a blob the registry stores (once: a blob it has already changes nothing)."""
    if registry_blob_size(conn, registry_id, digest) is not None:
        return
    upsert(
        conn,
        blobs,
        {"registry_id": registry_id, "digest": digest, "size": size, "created_at": time.time()},
        keys=("registry_id", "digest"),
        update=(),
    )
    add_stored(conn, registry_id, size)


def link(conn: Connection, repository_id: int, digest: str) -> None:
    upsert(
        conn,
        repository_blobs,
        {"repository_id": repository_id, "digest": digest, "created_at": time.time()},
        keys=("repository_id", "digest"),
        update=(),
    )


def unlink(conn: Connection, repository_id: int, digest: str) -> bool:
    result = conn.execute(
        delete(repository_blobs).where(
            repository_blobs.c.repository_id == repository_id, repository_blobs.c.digest == digest
        )
    )
    return result.rowcount > 0


# --- upload sessions ------------------------------------------------------------------------


def create_upload(conn: Connection, upload_id: str, registry_id: str, repository: str) -> UploadRecord:
    now = time.time()
    conn.execute(
        uploads.insert().values(
            id=upload_id,
            registry_id=registry_id,
            repository=repository,
            size=0,
            created_at=now,
            updated_at=now,
        )
    )
    return UploadRecord(upload_id, registry_id, repository, 0, now, now)


def get_upload(conn: Connection, upload_id: str) -> UploadRecord | None:
    """A session with the parts it accepted, read in one transaction."""
    row = conn.execute(select(uploads).where(uploads.c.id == upload_id)).mappings().first()
    if row is None:
        return None
    parts = conn.execute(
        select(upload_parts.c.part, upload_parts.c.start, upload_parts.c.size)
        .where(upload_parts.c.upload_id == upload_id)
        .order_by(upload_parts.c.start)
    ).all()
    return UploadRecord(
        row["id"],
        row["registry_id"],
        row["repository"],
        int(row["size"]),
        row["created_at"],
        row["updated_at"],
        tuple(UploadPart(str(name), int(start), int(size)) for name, start, size in parts),
    )


def accept_part(conn: Connection, upload_id: str, expected_size: int, part: str, size: int) -> bool:
    """Append a written part if the session still has ``expected_size`` bytes (compare-and-set).

    False when another request changed the session first, or it is gone: the part is then not
    the session's, and its writer drops it.
    """
    result = conn.execute(
        update(uploads)
        .where(uploads.c.id == upload_id, uploads.c.size == expected_size)
        .values(size=expected_size + size, updated_at=time.time())
    )
    if result.rowcount != 1:
        return False
    conn.execute(upload_parts.insert().values(upload_id=upload_id, start=expected_size, part=part, size=size))
    return True


def delete_upload(conn: Connection, upload_id: str, expected_size: int | None = None) -> bool:
    """Delete a session (and its part rows); with ``expected_size``, only if it still has that size."""
    condition = uploads.c.id == upload_id
    if expected_size is not None:
        condition = condition & (uploads.c.size == expected_size)
    if conn.execute(delete(uploads).where(condition)).rowcount == 0:
        return False
    conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
    return True


def uploads_changed_before(conn: Connection, before: float) -> list[UploadRecord]:
    """Sessions that no request has changed since ``before`` (abandoned), oldest first."""
    query = select(uploads.c.id).where(uploads.c.updated_at < before).order_by(uploads.c.updated_at)
    found = [get_upload(conn, str(row[0])) for row in conn.execute(query).all()]
    return [record for record in found if record is not None]


def existing_uploads(conn: Connection, upload_ids: list[str]) -> set[str]:
    if not upload_ids:
        return set()
    query = select(uploads.c.id).where(uploads.c.id.in_(upload_ids))
    return {str(row[0]) for row in conn.execute(query)}
