"""Recording events off the hot path.

The registry plane reports each finished request; the recorder turns it into events and
metrics at once and queues the events for a writer thread, which inserts them in batches.
A clean shutdown drains the queue, so no event is lost; old events expire after the
configured retention.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from berth.events import store
from berth.events.metrics import Metrics
from berth.events.model import LoginEvent, RepositoryEvent, login_event_for, repository_events_for
from berth.events.observer import RequestSummary
from berth.metadata.database import Database

log = logging.getLogger("berth.events")

BATCH_SIZE = 500
FLUSH_SECONDS = 0.25
PURGE_EVERY_SECONDS = 3600.0
MAX_BACKLOG = 100_000

Event = LoginEvent | RepositoryEvent


class EventRecorder:
    def __init__(self, db: Database, metrics: Metrics, retention_days: int) -> None:
        self._db = db
        self.metrics = metrics
        self._retention = retention_days * 86400.0
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._backlog: list[Event] = []
        self._last_purge = 0.0
        self._write_lock = threading.Lock()
        self._settled = threading.Condition()
        self._wake = threading.Event()
        self._queued = 0  # events handed to the queue so far
        self._done = 0  # events written (or given up on) so far

    # --- PlaneObserver --------------------------------------------------------------------

    def request_finished(self, summary: RequestSummary) -> None:
        now = time.time()
        login = login_event_for(summary, now)
        repository = repository_events_for(summary, now)
        self.metrics.observe(summary, login, repository)
        events: list[Event] = [login] if login is not None else []
        events += repository
        if events:
            with self._settled:
                self._queued += len(events)
            for event in events:
                self._queue.put(event)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="berth-events", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Write every queued event, then stop the writer."""
        if self._thread is not None:
            self._queue.put(None)
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def flush(self, timeout: float = 10.0) -> None:
        """Write whatever is queued now (tests, shutdown), in the order it was queued."""
        with self._settled:
            target = self._queued
        if self._thread is not None and self._thread.is_alive():
            self._wake.set()  # the writer stops gathering and writes at once; only it writes
        else:
            drained: list[Event] = []
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    drained.append(item)
            self._write(drained)
        with self._settled:
            self._settled.wait_for(lambda: self._done >= target, timeout)

    def _run(self) -> None:
        # Block only while the queue is empty, then let a batch gather: a busy registry wakes
        # this thread a few times a second, not once per request. What is queued by then is
        # written at once, batch after batch: the pause is per wake-up, not per batch (a pause
        # before each batch of 500 capped the writer at 2,000 events a second per process, and
        # above that the queue, and the process, grew without end).
        while True:
            try:
                first = self._queue.get(timeout=PURGE_EVERY_SECONDS)
            except queue.Empty:
                self._maybe_purge()
                continue
            if first is not None:
                self._wake.wait(FLUSH_SECONDS)
                self._wake.clear()
            stopping = first is None
            batch: list[Event] = [] if first is None else [first]
            while True:
                stopping = self._take(batch) or stopping
                self._write(batch)
                if stopping or len(batch) < BATCH_SIZE:
                    break
                batch = []
            self._maybe_purge()
            if stopping:
                return

    def _take(self, batch: list[Event]) -> bool:
        """Move queued events into ``batch`` up to :data:`BATCH_SIZE`; whether stop was asked."""
        while len(batch) < BATCH_SIZE:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    def _write(self, batch: list[Event]) -> None:
        with self._write_lock:
            pending = self._backlog + batch
            if not pending:
                return
            logins = [e for e in pending if isinstance(e, LoginEvent)]
            repositories = [e for e in pending if isinstance(e, RepositoryEvent)]
            try:
                self._db.write_sync(store.insert, logins, repositories)
            except Exception:
                log.exception("could not write %d events; keeping them for the next attempt", len(pending))
                self._backlog = pending[-MAX_BACKLOG:]
                self._settle(len(pending) - len(self._backlog))  # dropped: given up on
                return
            self._backlog = []
            self._settle(len(pending))

    def _settle(self, count: int) -> None:
        with self._settled:
            self._done += count
            self._settled.notify_all()

    def _maybe_purge(self) -> None:
        now = time.time()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        try:
            removed = self._db.write_sync(store.purge, now - self._retention)
        except Exception:
            log.exception("could not expire old events")
            return
        if removed:
            log.info("expired %d events older than the retention period", removed)
