"""The spine: one file per upload session that chunked uploads append to, so that completing
them copies nothing.

Written as a part file of its own per request, a chunked upload was concatenated into its
blob at completion, a copy of every byte (0.5 s per GiB from the page cache, 1.3 s from the
disk here). The filesystem driver instead appends each chunk to the session's spine,
``uploads/<id>/.spine``, at the chunk's offset in the session, and a spine that holds exactly
the accepted parts becomes the blob by a hard link. What keeps this as safe as a file per
request (two requests racing on one session never mix their bytes):

- a request appends only while it holds the spine's lock (``flock``, which the kernel drops
  when a process dies, plus a claim within the process), only at the spine's end, and only
  when that end is the session's size as the request read it and no part recorded in the
  spine reaches past it. So a stale or racing request never writes over bytes that a part
  was accepted with, or may still be;
- after writing, the request records its part as an empty marker file
  ``<part>@<start>+<size>``; a part whose request lost the session's compare-and-set is
  removed by unlinking its marker, and the spine is cut back to its last marker when nobody
  writes;
- a request that cannot append (another one holds the lock, or a refused or crashed request
  left bytes at the end) writes a part file of its own instead, as before; the session
  accepts one of them either way, and a completion that finds the parts in several files
  concatenates them;
- completion links the spine into place only under the lock and only when the spine is
  exactly the accepted parts; a linked spine (two links) takes no more appends, so a late
  request can never write into a committed blob.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from berth.storage.part_files import PartFile, open_direct, open_in_session

SPINE = ".spine"


@dataclass(frozen=True)
class Marker:
    """A part that was appended to the spine: ``size`` bytes from ``start``."""

    part: str
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def filename(self) -> str:
        return f"{self.part}@{self.start}+{self.size}"


def marker_of(filename: str) -> Marker | None:
    """The marker a session file's name records, or None for any other file."""
    part, at, where = filename.rpartition("@")
    start, plus, size = where.partition("+")
    if not at or not part or not plus or not start.isdigit() or not size.isdigit():
        return None
    return Marker(part, int(start), int(size))


def markers(session: Path) -> dict[str, Marker]:
    """The parts appended to a session's spine, by part name."""
    try:
        names = [entry.name for entry in os.scandir(session)]
    except (FileNotFoundError, NotADirectoryError):
        return {}
    found = (marker_of(name) for name in names)
    return {marker.part: marker for marker in found if marker is not None}


@dataclass(frozen=True)
class Extent:
    """``size`` bytes of the file ``path`` from ``offset``: where one part of a session is."""

    path: Path
    offset: int
    size: int


def locate(session: Path, parts: list[str] | tuple[str, ...]) -> list[Extent]:
    """Where each part's bytes are, in order. Raises ``FileNotFoundError`` for a part that is
    not stored (or whose bytes the spine no longer holds, after a crash)."""
    appended = markers(session)
    spine_size = _size(session / SPINE) if appended else 0
    extents = []
    for part in parts:
        marker = appended.get(part)
        if marker is None:
            path = session / part
            extents.append(Extent(path, 0, os.stat(path).st_size))
        elif marker.end > spine_size:
            raise FileNotFoundError(f"the spine of {session.name} ends before part {part}")
        else:
            extents.append(Extent(session / SPINE, marker.start, marker.size))
    return extents


def part_sizes(session: Path) -> dict[str, int]:
    """The sizes of the parts whose bytes the spine holds."""
    appended = markers(session)
    spine_size = _size(session / SPINE) if appended else 0
    return {part: marker.size for part, marker in appended.items() if marker.end <= spine_size}


class SpineAppender(PartFile):
    """Appends one part to the spine, holding its lock until closed; closing records the part."""

    def __init__(self, fd: int, session: Path, part: str, start: int, direct: int | None) -> None:
        super().__init__(fd, start, direct)
        self._session = session
        self._marker = Marker(part, start, 0)

    def close(self) -> None:
        if self.closed:
            return
        try:
            written = self.position - self._marker.start
            if written:
                _record(self._session, Marker(self._marker.part, self._marker.start, written))
        finally:
            super().close()  # closing the descriptor releases the lock
            _unclaim(self._session / SPINE)


def open_appender(session: Path, part: str, start: int) -> SpineAppender | None:
    """An appender for ``part`` at ``start``, or None when the part must be a file of its own."""
    if "@" in part or part.startswith("."):
        return None
    path = session / SPINE
    fd = _lock(path, os.O_RDWR | os.O_CREAT)
    if fd is None:  # another request appends right now
        return None
    try:
        info = os.fstat(fd)
        appendable = (
            _is_the_spine(session, info)
            and info.st_size == start
            and all(marker.end <= start for marker in markers(session).values())
        )
        direct = open_direct(path, info.st_ino) if appendable else None
    except BaseException:
        _unlock(path, fd)
        raise
    if not appendable:
        _unlock(path, fd)
        return None
    return SpineAppender(fd, session, part, start, direct)


def remove(session: Path, part: str) -> bool:
    """Drop a part appended to the spine (False when ``part`` is not one) and cut the spine
    back to its last remaining part, unless a request is appending (it checks the end itself)."""
    marker = markers(session).get(part)
    if marker is None:
        return False
    with contextlib.suppress(FileNotFoundError):
        (session / marker.filename).unlink()
    path = session / SPINE
    fd = _lock(path, os.O_RDWR)
    if fd is None:
        return True
    try:
        info = os.fstat(fd)
        end = max((other.end for other in markers(session).values()), default=0)
        if _is_the_spine(session, info) and info.st_size > end:
            os.ftruncate(fd, end)
    finally:
        _unlock(path, fd)
    return True


def link_whole(session: Path, extents: list[Extent], target: Path) -> bool:
    """Hard-link the spine (fsynced) to ``target`` if ``extents`` are all of it, in order, and
    nobody appends; False when the parts must be copied instead."""
    spine = session / SPINE
    position = 0
    for extent in extents:
        if extent.path != spine or extent.offset != position:
            return False
        position += extent.size
    if not extents:
        return False
    fd = _lock(spine, os.O_RDONLY)
    if fd is None:
        return False
    try:
        info = os.fstat(fd)
        if not _is_the_spine(session, info) or info.st_size != position:
            return False
        os.fsync(fd)
        os.link(spine, target)
        return True
    finally:
        _unlock(spine, fd)


# --- the lock -----------------------------------------------------------------------------
#
# ``flock`` excludes other open files, in this process or another, on a local file system. On
# NFS, Linux emulates it with byte-range locks, which a process holds once for all its
# descriptors; so the spines locked in this process are also claimed in a set of its own.

_claimed: set[str] = set()
_claimed_guard = threading.Lock()


def _lock(path: Path, flags: int) -> int | None:
    """A descriptor opened with ``flags`` holding ``path``'s lock; None when another holds it,
    or when the spine does not exist and ``flags`` do not create it."""
    key = str(path)
    with _claimed_guard:
        if key in _claimed:
            return None
        _claimed.add(key)
    try:
        fd = open_in_session(path, flags) if flags & os.O_CREAT else os.open(path, flags)
    except FileNotFoundError:
        _unclaim(path)
        return None
    except BaseException:
        _unclaim(path)
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException as exc:
        _unlock(path, fd)
        if isinstance(exc, BlockingIOError):
            return None
        raise
    return fd


def _unlock(path: Path, fd: int) -> None:
    try:
        os.close(fd)  # releases the flock
    finally:
        _unclaim(path)


def _unclaim(path: Path) -> None:
    with _claimed_guard:
        _claimed.discard(str(path))


def _is_the_spine(session: Path, info: os.stat_result) -> bool:
    """Whether the open file ``info`` is still the session's spine, and not linked as a blob."""
    try:
        current = os.stat(session / SPINE)
    except FileNotFoundError:
        return False
    return (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino) and info.st_nlink == 1


def _record(session: Path, marker: Marker) -> None:
    # FileNotFoundError: the session was ended meanwhile; its compare-and-set refuses the part.
    with contextlib.suppress(FileNotFoundError):
        os.close(os.open(session / marker.filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
