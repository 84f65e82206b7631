"""The queries of garbage collection: which blobs nothing references, and forgetting one.

A blob of a registry is *collectable* when

- no manifest of the registry references it (``manifest_references`` of kind ``blob``),
- its row was created before the cutoff (the collection's start minus the grace period), and
- no repository of the registry linked it at or after the cutoff (a push or mount in flight).

:func:`lock_registry` serializes the writers that could make a collectable blob referenced
again (a manifest PUT, the end of an upload, a mount) with the collection's delete: on SQLite
every write transaction already holds the database's single write lock (``BEGIN IMMEDIATE``);
on PostgreSQL it takes a transaction-scoped advisory lock keyed by the registry.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, select, text, update
from sqlalchemy.exc import IntegrityError

from berth.metadata.schema import (
    blobs,
    manifest_references,
    manifests,
    repositories,
    repository_blobs,
    settings_table,
)
from berth.metadata.usage import add_stored


def lock_registry(conn: Connection, registry_id: str) -> None:
    """Hold the registry's collection lock until the transaction ends (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(f"berth-gc:{registry_id}".encode()).digest()[:8], "big", signed=True
        )
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _collectable(registry_id: str, cutoff: float) -> ColumnElement[bool]:
    referenced = exists(
        select(manifest_references.c.digest)
        .join(manifests, manifests.c.id == manifest_references.c.manifest_id)
        .join(repositories, repositories.c.id == manifests.c.repository_id)
        .where(
            repositories.c.registry_id == registry_id,
            manifest_references.c.digest == blobs.c.digest,
            manifest_references.c.kind == "blob",
        )
    )
    linked_lately = exists(
        select(repository_blobs.c.digest)
        .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
        .where(
            repositories.c.registry_id == registry_id,
            repository_blobs.c.digest == blobs.c.digest,
            repository_blobs.c.created_at >= cutoff,
        )
    )
    return and_(
        blobs.c.registry_id == registry_id,
        blobs.c.created_at < cutoff,
        ~referenced,
        ~linked_lately,
    )


def collectable(
    conn: Connection, registry_id: str, cutoff: float, limit: int = 1000
) -> list[tuple[str, int]]:
    """Candidates (digest, size), marked without a lock; each is checked again when swept."""
    query = (
        select(blobs.c.digest, blobs.c.size)
        .where(_collectable(registry_id, cutoff))
        .order_by(blobs.c.created_at)
        .limit(limit)
    )
    return [(str(digest), int(size)) for digest, size in conn.execute(query).all()]


def still_collectable(conn: Connection, registry_id: str, digest: str, cutoff: float) -> bool:
    """Under :func:`lock_registry`: the blob may be forgotten now."""
    query = select(blobs.c.digest).where(_collectable(registry_id, cutoff), blobs.c.digest == digest)
    return conn.execute(query).first() is not None


def forget(conn: Connection, registry_id: str, digest: str) -> None:
    """Remove the blob's row and every repository's link to it, so no manifest can name it."""
    repository_ids = select(repositories.c.id).where(repositories.c.registry_id == registry_id)
    conn.execute(
        delete(repository_blobs).where(
            repository_blobs.c.digest == digest, repository_blobs.c.repository_id.in_(repository_ids)
        )
    )
    size = conn.execute(
        select(blobs.c.size).where(blobs.c.registry_id == registry_id, blobs.c.digest == digest)
    ).scalar_one_or_none()
    conn.execute(delete(blobs).where(blobs.c.registry_id == registry_id, blobs.c.digest == digest))
    add_stored(conn, registry_id, -int(size or 0))


# --- the leader's lease -----------------------------------------------------------------------

LEASE_KEY = "gc_lease"


def take_lease(
    conn: Connection, holder: str, seconds: float, now: float | None = None, key: str = LEASE_KEY
) -> bool:
    """Become (or stay) the replica that collects on a schedule, for ``seconds``.

    ``key`` names the job (the upload janitor has its own lease).

    The lease is a row of ``berth_settings`` holding ``<holder> <expiry>``; taking it is a
    compare-and-set on that row, so of several replicas at most one holds it at a time.
    """
    now = time.time() if now is None else now
    value = f"{holder} {now + seconds}"
    row = conn.execute(select(settings_table.c.value).where(settings_table.c.key == key)).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(settings_table.insert().values(key=key, value=value))
        except IntegrityError:
            return False  # another replica took it first
        return True
    current = str(row[0])
    owner, _, expiry = current.partition(" ")
    if owner != holder and float(expiry or 0) > now:
        return False
    changed = conn.execute(
        update(settings_table)
        .where(settings_table.c.key == key, settings_table.c.value == current)
        .values(value=value)
    )
    return changed.rowcount == 1


# --- the retention policy for untagged manifests (ACR's ``policies.retentionPolicy``) ---------


def retention_key(registry_id: str) -> str:
    return f"retention:{registry_id}"


def get_retention(conn: Connection, registry_id: str) -> tuple[bool, int]:
    """(enabled, days); ACR's default is disabled, 7 days."""
    row = conn.execute(
        select(settings_table.c.value).where(settings_table.c.key == retention_key(registry_id))
    ).first()
    if row is None:
        return False, 7
    status, _, days = str(row[0]).partition(" ")
    return status == "enabled", int(days)


def set_retention(conn: Connection, registry_id: str, enabled: bool, days: int) -> None:
    key, value = retention_key(registry_id), f"{'enabled' if enabled else 'disabled'} {days}"
    if (
        conn.execute(update(settings_table).where(settings_table.c.key == key).values(value=value)).rowcount
        == 0
    ):
        conn.execute(settings_table.insert().values(key=key, value=value))
