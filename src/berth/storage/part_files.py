"""Writing the files of upload sessions: buffered, or past the page cache where it pays.

A :class:`PartFile` writes at its own position in one file. Writes of whole pages from
page-aligned buffers (the reused buffers of a body read from the socket,
:mod:`berth.content.direct_upload`) at page-aligned offsets may go to the disk directly
(``O_DIRECT``) through a second descriptor: no fsync backlog at commit, and no page cache to
fill, which on a VM handing out fresh memory cost more than the write itself
(docs/performance.md). Other writes, and file systems without ``O_DIRECT`` (tmpfs), are
buffered, with writeback started as they go. Nothing is fsynced here: a session's bytes
become durable when the blob they make is committed.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from pathlib import Path

ALIGNMENT = 4096
_SYNC_FILE_RANGE_WRITE = 2
_WRITEBACK_EVERY = 32 * 1024 * 1024


def _writeback_starter() -> Callable[[int, int, int], None] | None:
    """Linux's ``sync_file_range(..., SYNC_FILE_RANGE_WRITE)``: start writing pages to disk
    without waiting, so the fsync at commit finds little left to do. None where unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> None:
        function(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # advisory: errors are harmless

    return start


start_writeback = _writeback_starter()


class PartFile:
    """Writes into one file from ``position`` on, through ``fd`` or, for aligned whole pages,
    through ``direct`` (a descriptor opened with ``O_DIRECT`` on the same file, or None).
    Closing closes both descriptors."""

    def __init__(self, fd: int, position: int = 0, direct: int | None = None) -> None:
        self._fd: int | None = fd
        self._direct = direct
        self.position = self._flushed = position

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            raise ValueError("write to a closed part")
        view = memoryview(data)
        while view:
            # Both descriptors write at the part's own position (neither moves the other's).
            written = self._write_direct(view) or os.pwrite(self._fd, view, self.position)
            self.position += written
            view = view[written:]
        if start_writeback is not None and self.position - self._flushed >= _WRITEBACK_EVERY:
            start_writeback(self._fd, self._flushed, self.position - self._flushed)
            self._flushed = self.position

    def _write_direct(self, view: memoryview) -> int:
        """Write ``view`` past the page cache when it and the offset are aligned; 0 otherwise."""
        if self._direct is None or self.position % ALIGNMENT or len(view) % ALIGNMENT:
            return 0
        if _address(view) % ALIGNMENT:
            return 0
        try:
            return os.pwrite(self._direct, view, self.position)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self._close_direct()  # this file system refuses it after all: buffered from now on
            return 0

    def close(self) -> None:
        self._close_direct()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _close_direct(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None


class FilePartWriter(PartFile):
    """Writes one part's file, which it creates (it never opens another request's part).

    ``past_cache``: the part will be the blob as it is (a monolithic upload, hard-linked into
    place at commit), so its aligned writes may go past the page cache. The parts of chunked
    uploads that are written apart (:mod:`berth.storage.spine` says when) are copied into the
    blob at commit, which is faster from the page cache (0.5 s per GiB against 1.3 s from the
    disk): they are buffered.
    """

    def __init__(self, path: Path, past_cache: bool = False) -> None:
        super().__init__(create_exclusively(path), 0, open_direct(path) if past_cache else None)


def open_direct(path: Path, inode: int | None = None) -> int | None:
    """A descriptor on ``path`` that writes past the page cache; None where refused, or when
    ``path`` is no longer the file ``inode``."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        fd = os.open(path, os.O_WRONLY | flag)
    except OSError:  # tmpfs and some others: EINVAL
        return None
    if inode is not None and os.fstat(fd).st_ino != inode:
        os.close(fd)
        return None
    return fd


def _address(view: memoryview) -> int:
    """Where ``view``'s bytes are in memory; 1 (never aligned) for a read-only buffer."""
    if view.readonly or not view.c_contiguous:
        return 1
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def create_exclusively(path: Path, attempts: int = 5) -> int:
    """A new file at ``path``, with its folder (see :func:`open_in_session`)."""
    return open_in_session(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, attempts)


def open_in_session(path: Path, flags: int, attempts: int = 5) -> int:
    """Open ``path`` with ``flags``, making its folder first. A request ending the session may
    remove the folder between the two steps; the folder is then made again (the session's
    compare-and-set refuses the part, and its writer deletes it)."""
    for _ in range(attempts - 1):
        try:
            # pathlib's mkdir raises FileExistsError when the folder it saw appear is gone again
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            continue
        try:
            return os.open(path, flags, 0o600)
        except FileNotFoundError:
            continue
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, flags, 0o600)
