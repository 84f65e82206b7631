"""Online garbage collection: the bytes of blobs no manifest references, freed while pushes go on.

Mark and sweep with a start time. The mark lists, without a lock, the blobs of a registry that
are collectable at ``cutoff = start - grace`` (see :mod:`berth.metadata.collection`). The sweep
deletes each one in its own write transaction that takes the registry's collection lock,
checks the same conditions again, removes the blob's row and links, and deletes its bytes
before committing. Every writer that can make a blob referenced again takes that lock too, so
either it commits first (and the re-check keeps the blob), or the sweep does (and the writer
finds the blob unknown and refuses, never recording a reference to missing bytes).
``docs/architecture.md`` ("Garbage collection") gives the whole argument.

Scheduled runs happen on one replica at a time: the one holding the lease row.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection

from berth.content.purge import PurgeFilter, purge
from berth.content.schedule import Every
from berth.metadata import collection, usage
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.storage import StorageDriver

log = logging.getLogger("berth.gc")

COLLECT_EVERY_SECONDS = 3600.0
DEFAULT_GRACE_SECONDS = 3600.0  # the default of the gc_grace_seconds setting (berth.config)
# every repository, no tag: the retention policy deletes untagged manifests only
UNTAGGED_ONLY = PurgeFilter(re.compile(".*"), re.compile("(?!)"))


@dataclass(frozen=True)
class CollectionReport:
    registry_id: str
    dry_run: bool
    blobs: int = 0
    bytes: int = 0
    digests: tuple[str, ...] = field(default=())
    manifests: tuple[str, ...] = field(default=())  # untagged manifests the retention policy deleted

    def __str__(self) -> str:
        verb = "would free" if self.dry_run else "freed"
        retained = (
            f"; deleted {len(self.manifests)} untagged manifest(s) by the retention policy"
            if self.manifests
            else ""
        )
        return f"{verb} {self.blobs} unreferenced blob(s), {self.bytes} bytes{retained}"


class GarbageCollector:
    def __init__(
        self, db: Database, storage: StorageDriver, grace_seconds: float = DEFAULT_GRACE_SECONDS
    ) -> None:
        self._db = db
        self._storage = storage
        self.grace_seconds = grace_seconds
        self._holder = uuid.uuid4().hex
        self._schedule = Every(COLLECT_EVERY_SECONDS, self._collect_if_leading, "berth-gc", at_start=False)

    def collect(
        self, registry_id: str, *, dry_run: bool = False, now: float | None = None
    ) -> CollectionReport:
        """Free (or, with ``dry_run``, list) the registry's unreferenced blobs."""
        start = time.time() if now is None else now
        cutoff = start - self.grace_seconds
        retained = () if dry_run else self._apply_retention(registry_id, start)
        candidates = self._db.read_sync(collection.collectable, registry_id, cutoff)
        if dry_run:
            return CollectionReport(
                registry_id,
                True,
                len(candidates),
                sum(size for _, size in candidates),
                tuple(d for d, _ in candidates),
            )
        store = self._storage.registry(registry_id)
        freed: list[tuple[str, int]] = []
        for digest, size in candidates:

            def sweep(conn: Connection, digest: str = digest) -> bool:
                collection.lock_registry(conn, registry_id)
                if not collection.still_collectable(conn, registry_id, digest, cutoff):
                    return False
                collection.forget(conn, registry_id, digest)
                store.delete(digest)  # before the commit, while the lock keeps writers out
                return True

            if self._db.write_sync(sweep):
                freed.append((digest, size))
        self._reconcile(registry_id)
        report = CollectionReport(
            registry_id,
            False,
            len(freed),
            sum(size for _, size in freed),
            tuple(d for d, _ in freed),
            retained,
        )
        if freed:
            log.info("garbage collection of registry %s: %s", registry_id, report)
        return report

    def _reconcile(self, registry_id: str) -> None:
        """Set the registry's usage counter to the sum of its rows (berth.metadata.usage)."""

        def work(conn: Connection) -> int:
            collection.lock_registry(conn, registry_id)
            return usage.reconcile(conn, registry_id)

        drift = self._db.write_sync(work)
        if drift:
            log.warning(
                "the stored bytes counted for registry %s were off by %d; corrected", registry_id, drift
            )

    def _apply_retention(self, registry_id: str, now: float) -> tuple[str, ...]:
        """Delete the untagged manifests older than the registry's retention policy allows."""

        def work(conn: Connection) -> tuple[str, ...]:
            enabled, days = collection.get_retention(conn, registry_id)
            if not enabled:
                return ()
            result = purge(conn, registry_id, [UNTAGGED_ONLY], now - days * 86400.0, untagged=True)
            return tuple(result.manifests)

        return self._db.write_sync(work)

    def collect_all(self, now: float | None = None) -> list[CollectionReport]:
        registries = self._db.read_sync(registry_rows.list_all)
        return [self.collect(registry.id, now=now) for registry in registries]

    # --- the background schedule, on the lease holder only ---------------------------------

    def lead(self, now: float | None = None) -> bool:
        """Take or renew the lease; True when this replica is the one to collect."""
        return self._db.write_sync(collection.take_lease, self._holder, COLLECT_EVERY_SECONDS * 2, now)

    def start(self) -> None:
        self._schedule.start()

    def stop(self) -> None:
        self._schedule.stop()

    def _collect_if_leading(self) -> None:
        if self.lead():
            self.collect_all()
