"""Repositories and tags of a registry."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, or_, select, update

from berth.metadata.database import upsert
from berth.metadata.schema import manifests, repositories, tags
from berth.metadata.usage import add_stored


@dataclass(frozen=True)
class Attributes:
    """ACR's changeable attributes, shared by repositories, tags and manifests."""

    delete_enabled: bool = True
    write_enabled: bool = True
    read_enabled: bool = True
    list_enabled: bool = True

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> Attributes:
        return cls(
            delete_enabled=bool(row["delete_enabled"]),
            write_enabled=bool(row["write_enabled"]),
            read_enabled=bool(row["read_enabled"]),
            list_enabled=bool(row["list_enabled"]),
        )


ATTRIBUTE_COLUMNS = ("delete_enabled", "write_enabled", "read_enabled", "list_enabled")


@dataclass(frozen=True)
class RepositoryRecord:
    id: int
    registry_id: str
    name: str
    created_at: float
    updated_at: float
    attributes: Attributes


@dataclass(frozen=True)
class TagRecord:
    name: str
    digest: str
    created_at: float
    updated_at: float
    attributes: Attributes


def repository_from(row: Mapping[Any, Any]) -> RepositoryRecord:
    return RepositoryRecord(
        id=row["id"],
        registry_id=row["registry_id"],
        name=row["name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attributes=Attributes.of(row),
    )


def tag_from(row: Mapping[Any, Any]) -> TagRecord:
    return TagRecord(
        name=row["name"],
        digest=row["digest"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attributes=Attributes.of(row),
    )


_BY_NAME = select(repositories).where(
    repositories.c.registry_id == bindparam("registry_id"), repositories.c.name == bindparam("name")
)


def get(conn: Connection, registry_id: str, name: str) -> RepositoryRecord | None:
    row = conn.execute(_BY_NAME, {"registry_id": registry_id, "name": name}).mappings().first()
    return repository_from(row) if row else None


def ensure(conn: Connection, registry_id: str, name: str) -> RepositoryRecord:
    now = time.time()
    upsert(
        conn,
        repositories,
        {"registry_id": registry_id, "name": name, "created_at": now, "updated_at": now},
        keys=("registry_id", "name"),
        update=(),
    )
    record = get(conn, registry_id, name)
    assert record is not None
    return record


def touch(conn: Connection, repository_id: int) -> None:
    conn.execute(
        update(repositories).where(repositories.c.id == repository_id).values(updated_at=time.time())
    )


def list_names(
    conn: Connection, registry_id: str, last: str | None, limit: int | None, *, listed_only: bool = False
) -> list[str]:
    """Names of repositories that hold at least one manifest, sorted, after ``last``."""
    has_manifest = exists().where(manifests.c.repository_id == repositories.c.id)
    query = (
        select(repositories.c.name)
        .where(repositories.c.registry_id == registry_id, has_manifest)
        .order_by(repositories.c.name)
    )
    if listed_only:
        query = query.where(repositories.c.list_enabled.is_(True))
    if last:
        query = query.where(repositories.c.name > last)
    if limit is not None:
        query = query.limit(limit)
    return [row[0] for row in conn.execute(query)]


def remove(conn: Connection, repository_id: int) -> None:
    """Delete a repository; its manifests (and tags, links) go with it, and their bytes from usage."""
    registry_id = conn.execute(
        select(repositories.c.registry_id).where(repositories.c.id == repository_id)
    ).scalar_one_or_none()
    manifest_bytes = conn.execute(
        select(func.coalesce(func.sum(manifests.c.size), 0)).where(manifests.c.repository_id == repository_id)
    ).scalar_one()
    conn.execute(delete(repositories).where(repositories.c.id == repository_id))
    if registry_id is not None:
        add_stored(conn, str(registry_id), -int(manifest_bytes))


def set_attributes(conn: Connection, repository_id: int, changes: Mapping[str, bool]) -> None:
    values = {k: v for k, v in changes.items() if k in ATTRIBUTE_COLUMNS}
    values_with_time: dict[str, object] = {**values, "updated_at": time.time()}
    conn.execute(update(repositories).where(repositories.c.id == repository_id).values(**values_with_time))


def counts(conn: Connection, repository_id: int) -> tuple[int, int]:
    manifest_count = conn.execute(
        select(func.count()).select_from(manifests).where(manifests.c.repository_id == repository_id)
    ).scalar_one()
    tag_count = conn.execute(
        select(func.count()).select_from(tags).where(tags.c.repository_id == repository_id)
    ).scalar_one()
    return int(manifest_count), int(tag_count)


# --- tags -----------------------------------------------------------------------------------


def get_tag(conn: Connection, repository_id: int, name: str) -> TagRecord | None:
    row = (
        conn.execute(select(tags).where(tags.c.repository_id == repository_id, tags.c.name == name))
        .mappings()
        .first()
    )
    return tag_from(row) if row else None


def list_tags(
    conn: Connection,
    repository_id: int,
    last: str | None = None,
    limit: int | None = None,
    *,
    digest: str | None = None,
    order_by_time: str | None = None,
    listed_only: bool = False,
) -> list[TagRecord]:
    """Tags by name, or by ``updated_at`` (``timedesc``/``timeasc``), after the tag ``last``.

    With a time order, ``last`` is still a tag name: the page continues after that tag's place
    in the order (a vanished ``last`` ends the listing rather than restarting it).
    ``listed_only`` leaves out tags whose ``listEnabled`` is false.
    """
    query = select(tags).where(tags.c.repository_id == repository_id)
    if digest is not None:
        query = query.where(tags.c.digest == digest)
    if listed_only:
        query = query.where(tags.c.list_enabled.is_(True))
    if order_by_time in ("timedesc", "timeasc"):
        descending = order_by_time == "timedesc"
        if last:
            anchor = conn.execute(
                select(tags.c.updated_at).where(tags.c.repository_id == repository_id, tags.c.name == last)
            ).scalar()
            if anchor is None:
                return []
            beyond = tags.c.updated_at < anchor if descending else tags.c.updated_at > anchor
            query = query.where(or_(beyond, and_(tags.c.updated_at == anchor, tags.c.name > last)))
        time_order = tags.c.updated_at.desc() if descending else tags.c.updated_at.asc()
        query = query.order_by(time_order, tags.c.name)
    else:
        query = query.order_by(tags.c.name)
        if last:
            query = query.where(tags.c.name > last)
    if limit is not None:
        query = query.limit(limit)
    return [tag_from(row) for row in conn.execute(query).mappings()]


def tag_names_by_digest(conn: Connection, repository_id: int, digests: Sequence[str]) -> dict[str, list[str]]:
    """The tags pointing at each of ``digests`` (sorted by name); digests without tags are absent."""
    found: dict[str, list[str]] = {}
    if not digests:
        return found
    query = (
        select(tags.c.digest, tags.c.name)
        .where(tags.c.repository_id == repository_id, tags.c.digest.in_(list(digests)))
        .order_by(tags.c.name)
    )
    for digest, name in conn.execute(query):
        found.setdefault(digest, []).append(name)
    return found


def put_tag(conn: Connection, repository_id: int, name: str, digest: str) -> None:
    now = time.time()
    upsert(
        conn,
        tags,
        {
            "repository_id": repository_id,
            "name": name,
            "digest": digest,
            "created_at": now,
            "updated_at": now,
        },
        keys=("repository_id", "name"),
        update=("digest", "updated_at"),
    )


def delete_tag(conn: Connection, repository_id: int, name: str) -> bool:
    result = conn.execute(delete(tags).where(tags.c.repository_id == repository_id, tags.c.name == name))
    return result.rowcount > 0


def set_tag_attributes(conn: Connection, repository_id: int, name: str, changes: Mapping[str, bool]) -> None:
    values: dict[str, object] = {k: v for k, v in changes.items() if k in ATTRIBUTE_COLUMNS}
    values["updated_at"] = time.time()
    conn.execute(
        update(tags).where(tags.c.repository_id == repository_id, tags.c.name == name).values(**values)
    )
