"""Blobs a registry holds, which repositories link them, and upload sessions."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from berth.metadata.database import upsert
from berth.metadata.schema import blobs, repositories, repository_blobs, uploads


@dataclass(frozen=True)
class UploadRecord:
    id: str
    registry_id: str
    repository: str
    size: int
    created_at: float
    updated_at: float


def registry_blob_size(conn: Connection, registry_id: str, digest: str) -> int | None:
    query = select(blobs.c.size).where(blobs.c.registry_id == registry_id, blobs.c.digest == digest)
    row = conn.execute(query).first()
    return int(row[0]) if row else None


def linked_blob_size(conn: Connection, repository_id: int, digest: str) -> int | None:
    """Size of a blob the repository links, or None when it does not link it."""
    query = (
        select(blobs.c.size)
        .select_from(
            repository_blobs.join(repositories, repositories.c.id == repository_blobs.c.repository_id).join(
                blobs,
                (blobs.c.registry_id == repositories.c.registry_id)
                & (blobs.c.digest == repository_blobs.c.digest),
            )
        )
        .where(repository_blobs.c.repository_id == repository_id, repository_blobs.c.digest == digest)
    )
    row = conn.execute(query).first()
    return int(row[0]) if row else None


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
    upsert(
        conn,
        blobs,
        {"registry_id": registry_id, "digest": digest, "size": size, "created_at": time.time()},
        keys=("registry_id", "digest"),
        update=(),
    )


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
    row = conn.execute(select(uploads).where(uploads.c.id == upload_id)).mappings().first()
    if row is None:
        return None
    return UploadRecord(
        row["id"],
        row["registry_id"],
        row["repository"],
        int(row["size"]),
        row["created_at"],
        row["updated_at"],
    )


def advance_upload(conn: Connection, upload_id: str, expected_size: int, new_size: int) -> bool:
    """Move the session's committed size forward; False when another writer got there first."""
    result = conn.execute(
        update(uploads)
        .where(uploads.c.id == upload_id, uploads.c.size == expected_size)
        .values(size=new_size, updated_at=time.time())
    )
    return result.rowcount == 1


def delete_upload(conn: Connection, upload_id: str) -> bool:
    return conn.execute(delete(uploads).where(uploads.c.id == upload_id)).rowcount > 0
