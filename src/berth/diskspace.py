"""Running out of disk: recognising it, and what the service knows about its free space.

A write that fails for lack of space can surface anywhere while a registry-plane request is
served: an ``OSError`` with ``ENOSPC`` or ``EDQUOT`` from a blob or upload write, SQLite's
``database or disk is full`` (``SQLITE_FULL``) or PostgreSQL's ``disk_full`` (SQLSTATE 53100)
from a metadata write. :func:`out_of_space` recognises all of them, through SQLAlchemy's
wrapping and exception chains, so the registry plane can answer one clear error
(``507 INSUFFICIENT_STORAGE``) from one place.

:class:`DiskSpace` measures the free space of the volumes berth writes to (the blob storage
and a SQLite database's folder) and remembers the last failed write; ``/healthz`` reports its
:meth:`DiskSpace.status` (``ok``, ``low`` or ``full``), which ``berth acr check-health`` reads.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# How long a failed write keeps the status at ``full`` (while free space stays low).
FULL_MEMORY_SECONDS = 600.0
SQLITE_FULL = 13
POSTGRES_DISK_FULL = "53100"

OK, LOW, FULL = "ok", "low", "full"


@dataclass(frozen=True)
class OutOfSpace:
    reason: str  # disk_full, quota_exceeded or database_full
    error: BaseException  # the exception that says so (inside groups and wrappers)


def out_of_space(exc: BaseException) -> OutOfSpace | None:
    """What ran out, if ``exc`` is (or was caused by) a write that failed for lack of space."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        reason = _reason(current)
        if reason is not None:
            return OutOfSpace(reason, current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        original = getattr(current, "orig", None)  # sqlalchemy.exc.DBAPIError
        for linked in (original, current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return None


def _reason(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "quota_exceeded" if exc.errno == errno.EDQUOT else "disk_full"
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return "database_full"
    if getattr(exc, "sqlstate", None) == POSTGRES_DISK_FULL:  # psycopg.errors.DiskFull
        return "database_full"
    return None


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (the storage folder may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


@dataclass(frozen=True)
class Volume:
    path: Path
    free_bytes: int
    total_bytes: int


class DiskSpace:
    """Free space of berth's data volumes, and the memory of the last write that did not fit."""

    def __init__(
        self,
        paths: Iterable[Path],
        low_free_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.paths = tuple(dict.fromkeys(Path(p) for p in paths))
        self.low_free_bytes = low_free_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._last_full: float | None = None

    def volumes(self) -> list[Volume]:
        volumes: list[Volume] = []
        for path in self.paths:
            try:
                stats = os.statvfs(_existing(path))
            except OSError:
                continue
            volumes.append(Volume(path, stats.f_bavail * stats.f_frsize, stats.f_blocks * stats.f_frsize))
        return volumes

    def record_full(self) -> None:
        with self._lock:
            self._last_full = self._clock()

    def status(self) -> str:
        """``full`` after a recent failed write while space is still low; ``low`` below the
        threshold; ``ok`` otherwise."""
        volumes = self.volumes()
        low = any(v.free_bytes < self.low_free_bytes for v in volumes)
        with self._lock:
            last_full = self._last_full
        recent = last_full is not None and self._clock() - last_full < FULL_MEMORY_SECONDS
        if low and recent:
            return FULL
        return LOW if low else OK
