"""Removing abandoned upload sessions and the bytes nobody will commit.

Two kinds of leftovers: sessions that no request changed for ``upload_max_age_hours``
(a client that gave up; Distribution purges these after a week too), and session folders the
metadata does not know (a crash after a session ended but before its parts were removed). The
first are found in the metadata, the second in storage, and only when older than
:data:`STRAY_GRACE_SECONDS`, so a request still writing a part is never pulled from under.
Deleting is idempotent, so several replicas may run this at once; on its hourly schedule only
the holder of a lease in the database does (``janitor_lease``), so N workers or replicas do
not walk the storage N times.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from berth.content.schedule import Every
from berth.metadata import blobs as blob_rows
from berth.metadata import collection
from berth.metadata.database import Database
from berth.storage import StorageDriver

log = logging.getLogger("berth.uploads")

PURGE_EVERY_SECONDS = 3600.0
STRAY_GRACE_SECONDS = 3600.0
JANITOR_LEASE = "janitor_lease"


@dataclass(frozen=True)
class PurgeReport:
    sessions: int = 0  # abandoned sessions removed
    stray: int = 0  # session folders without a session removed
    bytes: int = 0

    def __str__(self) -> str:
        return (
            f"removed {self.sessions} abandoned upload session(s) and {self.stray} stray one(s), "
            f"{self.bytes} bytes"
        )


class UploadJanitor:
    def __init__(self, db: Database, storage: StorageDriver, max_age_seconds: float) -> None:
        self._db = db
        self._storage = storage
        self._max_age = max_age_seconds
        self._holder = uuid.uuid4().hex
        self._started = False
        self._schedule = Every(
            PURGE_EVERY_SECONDS, self._purge_if_leading, "berth-upload-janitor", at_start=True
        )

    def purge(self, now: float | None = None) -> PurgeReport:
        now = time.time() if now is None else now
        sessions = stray = freed = 0
        for upload in self._db.read_sync(blob_rows.uploads_changed_before, now - self._max_age):
            store = self._storage.registry(upload.registry_id)
            size = sum(store.part_sizes(upload.id).values())
            if self._db.write_sync(blob_rows.delete_upload, upload.id, upload.size):
                store.delete_upload(upload.id)
                sessions, freed = sessions + 1, freed + size
        for registry_id in list(self._storage.registry_ids()):
            store = self._storage.registry(registry_id)
            old = [upload for upload, changed in store.upload_ids() if changed < now - STRAY_GRACE_SECONDS]
            known = self._db.read_sync(blob_rows.existing_uploads, old)
            for upload_id in old:
                if upload_id not in known:
                    freed += sum(store.part_sizes(upload_id).values())
                    store.delete_upload(upload_id)
                    stray += 1
        report = PurgeReport(sessions, stray, freed)
        if sessions or stray:
            log.info("upload purge: %s", report)
        return report

    # --- the background schedule ----------------------------------------------------------

    def _purge_if_leading(self) -> None:
        """At start every process purges (a restart after a crash cleans up at once); then,
        of several processes (workers, replicas), only the lease holder does, hourly."""
        leading = self._db.write_sync(
            collection.take_lease, self._holder, PURGE_EVERY_SECONDS * 2, None, JANITOR_LEASE
        )
        if leading or not self._started:
            self._started = True
            self.purge()

    def start(self) -> None:
        self._schedule.start()

    def stop(self) -> None:
        self._schedule.stop()
