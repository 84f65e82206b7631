"""The invalidation bus: tells the other processes serving the same database that something
they may hold in memory changed.

Several parts of berth keep short-lived copies of database rows in memory (the manifest
lookup cache, registry records, the signing keyring) or count things in memory (failed
sign-ins). A write made by one process (a worker of ``berth serve --workers N``, or a replica
behind a balancer) publishes a small message — a *topic* and a *key* — and every other
process applies it: drops the cached entry, reloads the keyring, counts the failure.

- :class:`PostgresBus` carries messages with PostgreSQL ``LISTEN``/``NOTIFY`` (delivered to
  every listening session within milliseconds of the publish).
- :class:`SqliteBus` appends them to the ``invalidations`` table, which every process polls
  (:data:`POLL_SECONDS`); for several workers on one SQLite file.
- :class:`InProcessBus` carries nothing: one process, nobody else to tell.

The bus only makes staleness *shorter*: every cache keeps its own time-to-live as the bound
when a message is lost (a dropped connection), and on reconnecting (or finding a gap in the
SQLite log) a process resets every subscriber, since it cannot know what it missed.
``publish`` never blocks the caller (a sender thread does the I/O) and does not deliver to the
publishing process itself: the writer has already updated its own memory.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from berth.metadata import invalidations as rows
from berth.metadata.database import Database

log = logging.getLogger("berth.invalidation")

CHANNEL = "berth_invalidation"
POLL_SECONDS = 0.05
KEEP_SECONDS = 60.0
RECONNECT_SECONDS = 1.0
_MAX_KEY = 4000  # NOTIFY payloads are limited to 8000 bytes

# Topics (one place, so publishers and subscribers agree on the spelling).
MANIFESTS = "manifests"  # key: "<registry id>:<repository>"
REGISTRIES = "registries"  # key: registry name
SIGNING_KEYS = "signing_keys"  # key: the new kid
AUTH_FAILURES = "auth_failures"  # key: "<client ip>\n<identity or empty>"

Handler = Callable[[str | None], None]
"""Called with the message's key, or None: "anything of this topic may have changed"."""


class InvalidationBus:
    """Subscriptions and delivery; subclasses carry messages to other processes."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def publish(self, topic: str, key: str) -> None:
        """Tell the other processes; returns at once."""

    def start(self) -> None:
        """Start carrying messages (a no-op for one process)."""

    def stop(self) -> None:
        """Stop, after sending what was published."""

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once messages from other processes are being received."""
        return True

    def _deliver(self, origin: str, topic: str, key: str | None) -> None:
        if origin == self.origin:
            return
        for handler in self._handlers.get(topic, ()):
            try:
                handler(key)
            except Exception:
                log.exception("invalidation handler for %s failed", topic)

    def _reset_all(self) -> None:
        for topic in list(self._handlers):
            self._deliver("", topic, None)


class InProcessBus(InvalidationBus):
    """One process: nothing to carry."""


class _ThreadedBus(InvalidationBus):
    """A sender thread draining a queue of published messages, and a receiver thread."""

    def __init__(self) -> None:
        super().__init__()
        self._outbox: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._threads: list[threading.Thread] = []

    def publish(self, topic: str, key: str) -> None:
        if len(key) > _MAX_KEY:
            key = ""  # too long to carry: an empty key makes subscribers drop everything of the topic
        self._outbox.put((topic, key))

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        for target, name in ((self._send_loop, "berth-bus-send"), (self._receive_loop, "berth-bus-receive")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._ready.wait(timeout)

    def _send_loop(self) -> None:
        while True:
            first = self._outbox.get()
            batch = [first]
            while True:
                try:
                    batch.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            messages = [(self.origin, m[0], m[1]) for m in batch if m is not None]
            if messages:
                try:
                    self._send(messages)
                except Exception:
                    # The others fall back on their caches' time-to-live for these.
                    log.exception("could not publish %d invalidation messages", len(messages))
            if None in batch:
                return

    def _send(self, messages: list[rows.Message]) -> None:
        raise NotImplementedError

    def _receive_loop(self) -> None:
        raise NotImplementedError


class PostgresBus(_ThreadedBus):
    """``NOTIFY berth_invalidation`` on publish; a dedicated connection ``LISTEN``s."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._conninfo = postgres_conninfo(db.url)
        self._sender: Any = None  # the send thread's own connection, kept open
        self._wake_read = self._wake_write = -1  # a pipe stop() writes to, made by start()

    def _send(self, messages: list[rows.Message]) -> None:
        import psycopg

        if self._sender is None or self._sender.closed:
            self._sender = psycopg.connect(self._conninfo, autocommit=True)
        try:
            for message in messages:
                self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, json.dumps(message)))
        except Exception:
            self._sender.close()
            self._sender = None
            raise

    def start(self) -> None:
        if not self._threads:
            self._wake_read, self._wake_write = os.pipe()
        super().start()

    def stop(self) -> None:
        if self._wake_write < 0:
            return
        os.write(self._wake_write, b"x")
        super().stop()
        if self._sender is not None:
            self._sender.close()
            self._sender = None
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._wake_read = self._wake_write = -1

    def _receive_loop(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._reset_all()  # whatever happened while not listening is unknown
                    self._ready.set()
                    while not self._stopping.is_set():
                        # Wait for the connection or for stop() (the pipe), so stopping is immediate.
                        readable, _, _ = select.select([conn.fileno(), self._wake_read], [], [], 5.0)
                        if self._wake_read in readable:
                            return
                        for notice in conn.notifies(timeout=0):
                            self._on_payload(notice.payload)
            except Exception as exc:
                self._ready.clear()
                if self._stopping.is_set():
                    return
                log.warning("invalidation listener lost its connection (%s); reconnecting", exc)
                self._stopping.wait(RECONNECT_SECONDS)

    def _on_payload(self, payload: str) -> None:
        try:
            origin, topic, key = json.loads(payload)
        except (ValueError, TypeError):
            return
        self._deliver(str(origin), str(topic), str(key))


class SqliteBus(_ThreadedBus):
    """Messages as rows of ``invalidations``, polled every :data:`POLL_SECONDS`."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    def _send(self, messages: list[rows.Message]) -> None:
        self._db.write_sync(rows.append, messages, time.time(), KEEP_SECONDS)

    def _receive_loop(self) -> None:
        last: int | None = None
        while not self._stopping.is_set():
            try:
                if last is None:
                    last = self._db.read_sync(rows.last_seq)
                    self._ready.set()
                oldest, found = self._db.read_sync(rows.since, last)
                if found and oldest is not None and oldest > last + 1 and last > 0:
                    self._reset_all()  # rows were pruned before this process read them
                for seq, origin, topic, key in found:
                    self._deliver(origin, topic, key)
                    last = seq
            except Exception:
                log.exception("could not read invalidation messages")
            self._stopping.wait(POLL_SECONDS)


def postgres_conninfo(url: str) -> str:
    """A libpq URI for psycopg from berth's SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bus_for(db: Database, workers: int) -> InvalidationBus:
    """PostgreSQL: always carried (other replicas may share the database); SQLite: carried only
    between the workers of one ``berth serve`` (a SQLite file is never shared between hosts)."""
    if not db.is_sqlite:
        return PostgresBus(db)
    return SqliteBus(db) if workers > 1 else InProcessBus()


def publish_once(db: Database, topic: str, key: str) -> None:
    """Publish from a short-lived process (the ``berth admin`` commands), synchronously."""
    message = (uuid.uuid4().hex, topic, key)
    if db.is_sqlite:
        db.write_sync(rows.append, [message], time.time(), KEEP_SECONDS)
        return
    with db.engine.connect() as conn:
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": json.dumps(message)}
        )
        conn.commit()
