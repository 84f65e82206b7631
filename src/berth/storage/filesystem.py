"""Filesystem storage driver: one folder per registry, blobs renamed into place atomically.

Layout under the driver's root::

    registries/<registry id>/blobs/<algorithm>/<first two hex>/<hex>
    registries/<registry id>/uploads/<upload id>/<part>

Each part of an upload is a file of its own, created exclusively by the one request that
writes it. Commit fsyncs the parts and puts them in place under the digest in one rename:
a single part is hard-linked (no copy), several are concatenated in the kernel
(``copy_file_range``) into a temporary file first. The directory is fsynced after the
rename, so a crash never leaves a partial blob visible, and the parts stay until the
session is deleted, so a crash between commit and the metadata update loses nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from berth.storage import trash

CHUNK_SIZE = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safe_component(value: str) -> str:
    if not value or "/" in value or "\\" in value or value in (".", "..") or "\0" in value:
        raise ValueError(f"unsafe storage key component: {value!r}")
    return value


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


_SYNC_FILE_RANGE_WRITE = 2
_WRITEBACK_EVERY = 32 * 1024 * 1024
_start_writeback = _writeback_starter()


class _FilePartWriter:
    """Writes one part's file, which it creates (it never opens another request's part).
    Nothing is fsynced here: a session's bytes become durable when
    :meth:`FilesystemBlobStore.commit_upload` fsyncs them, before the blob is visible.

    A part that will be the blob as it is (``past_cache``: a monolithic upload, hard-linked
    into place at commit) sends page-aligned writes of whole pages at page-aligned offsets
    (the reused buffers of a body read from the socket, :mod:`berth.content.direct_upload`)
    to the disk directly (``O_DIRECT``): no fsync backlog at commit, and no page cache to
    fill, which on a VM handing out fresh memory cost more than the write itself
    (docs/performance.md). Other writes, the parts of chunked uploads (copied into the blob
    at commit, faster from the page cache: 0.5 s per GiB against 1.3 s from the disk) and
    file systems without ``O_DIRECT`` (tmpfs) are buffered, with writeback started as they go.
    """

    def __init__(self, path: Path, past_cache: bool = False) -> None:
        self._fd: int | None = _create_exclusively(path)
        self._direct = _open_direct(path) if past_cache else None
        self._position = self._flushed = 0

    def write(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            raise ValueError("write to a closed part")
        view = memoryview(data)
        while view:
            # Both descriptors write at the part's own position (neither moves the other's).
            written = self._write_direct(view) or os.pwrite(self._fd, view, self._position)
            self._position += written
            view = view[written:]
        if _start_writeback is not None and self._position - self._flushed >= _WRITEBACK_EVERY:
            _start_writeback(self._fd, self._flushed, self._position - self._flushed)
            self._flushed = self._position

    def _write_direct(self, view: memoryview) -> int:
        """Write ``view`` past the page cache when it and the offset are aligned; 0 otherwise."""
        if self._direct is None or self._position % _ALIGNMENT or len(view) % _ALIGNMENT:
            return 0
        if _address(view) % _ALIGNMENT:
            return 0
        try:
            return os.pwrite(self._direct, view, self._position)
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


_ALIGNMENT = 4096


def _open_direct(path: Path) -> int | None:
    """A second descriptor on ``path`` that writes past the page cache; None where refused."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:  # tmpfs and some others: EINVAL
        return None


def _address(view: memoryview) -> int:
    """Where ``view``'s bytes are in memory; 1 (never aligned) for a read-only buffer."""
    if view.readonly or not view.c_contiguous:
        return 1
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def _create_exclusively(path: Path, attempts: int = 5) -> int:
    """A new file at ``path``, with its folder. A request ending the session may remove the folder
    between the two steps; the folder is then made again (the session's compare-and-set refuses
    the part, and its writer deletes it)."""
    for _ in range(attempts - 1):
        try:
            # pathlib's mkdir raises FileExistsError when the folder it saw appear is gone again
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            continue
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:
            continue
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._blobs = root / "blobs"
        self._uploads = root / "uploads"
        self._trash = root / "trash"

    def _blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = digest.partition(":")
        _safe_component(algorithm)
        _safe_component(encoded)
        return self._blobs / algorithm / encoded[:2] / encoded

    def _session_dir(self, upload_id: str) -> Path:
        return self._uploads / _safe_component(upload_id)

    def stat(self, digest: str) -> int | None:
        try:
            return self._blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, digest: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        return _read_file(self._blob_path(digest), offset, length)

    def local_path(self, digest: str) -> Path | None:
        path = self._blob_path(digest)
        return path if path.exists() else None

    def redirect_url(self, digest: str, expires_in: int) -> str | None:
        """None: a folder has no URL of its own; berth serves its blobs."""
        self._blob_path(digest)
        return None

    def delete(self, digest: str) -> bool:
        try:
            self._blob_path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def part_writer(self, upload_id: str, part: str, whole: bool = False) -> _FilePartWriter:
        return _FilePartWriter(self._session_dir(upload_id) / _safe_component(part), past_cache=whole)

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        try:
            entries = list(os.scandir(self._session_dir(upload_id)))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        return {e.name: e.stat().st_size for e in entries if not e.name.startswith(_TEMPORARY)}

    def read_parts(self, upload_id: str, parts: Sequence[str]) -> Iterator[bytes]:
        session = self._session_dir(upload_id)
        # Open every part first, so a missing one raises at call time.
        handles = [_read_file(session / _safe_component(part), 0, None) for part in parts]

        def chunks() -> Iterator[bytes]:
            for handle in handles:
                yield from handle

        return chunks()

    def delete_part(self, upload_id: str, part: str) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            (self._session_dir(upload_id) / _safe_component(part)).unlink()

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        session = self._session_dir(upload_id)
        target = self._blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.parent / f"{_TEMPORARY}{uuid.uuid4().hex}"
        sources = [session / _safe_component(part) for part in parts]
        replaced = _hold_large(target)  # its blocks are freed after the answer, not in the rename
        try:
            if len(sources) == 1:
                _fsync_file(sources[0])
                os.link(sources[0], staged)
            else:
                _concatenate(sources, staged)
            os.replace(staged, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
            if replaced is not None:
                trash.close_later(replaced)
        _fsync_dir(target.parent)

    def delete_upload(self, upload_id: str) -> None:
        path = self._session_dir(upload_id)
        if path.is_file():  # a session file of berth before parts (never created any more)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        # A racing request may create the folder for its part just now: whatever it leaves is
        # refused by the session's compare-and-set and removed by it (or by the upload janitor).
        # A large folder is removed after the answer (removing a 1 GiB part takes ~0.3 s).
        if _folder_size(path) < _REMOVE_LATER_FROM:
            shutil.rmtree(path, ignore_errors=True)
        else:
            trash.discard(path, self._trash)

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        try:
            entries = list(os.scandir(self._uploads))
        except FileNotFoundError:
            return iter(())
        return iter([(e.name, e.stat().st_mtime) for e in entries])


_TEMPORARY = ".tmp-"


_REMOVE_LATER_FROM = 64 * 1024 * 1024


def _folder_size(path: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file())
    except FileNotFoundError:
        return 0


def _hold_large(path: Path) -> int | None:
    """A descriptor on ``path`` when it is a large file, so that replacing it does not free its
    blocks (freeing 1 GiB takes ~0.3 s); None when it is absent or small."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    if os.fstat(fd).st_size < _REMOVE_LATER_FROM:
        os.close(fd)
        return None
    return fd


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _concatenate(sources: Sequence[Path], target: Path) -> None:
    """Write the sources one after another into a new ``target``, then fsync it.

    Parts written past the page cache are read from the disk: the next two are requested
    ahead (``POSIX_FADV_WILLNEED``) while one is copied, and each copied part's writeback is
    started at once, so the disk reads and writes all along (64 parts of 16 MiB here: 1.3 s
    where the file's default 128 KiB readahead took 2.1-2.7 s).
    """
    for source in sources[:_PARTS_AHEAD]:
        _read_ahead(source)
    with open(target, "xb") as out:
        position = 0
        for index, source in enumerate(sources):
            if index + _PARTS_AHEAD < len(sources):
                _read_ahead(sources[index + _PARTS_AHEAD])
            with open(source, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                _copy_all(handle.fileno(), out.fileno(), size)
            if _start_writeback is not None:
                _start_writeback(out.fileno(), position, size)
            position += size
        os.fsync(out.fileno())


_PARTS_AHEAD = 2


def _read_ahead(path: Path) -> None:
    """Ask the kernel to read ``path`` into the page cache now (advisory: errors are ignored)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _copy_all(source: int, target: int, size: int) -> None:
    """``copy_file_range`` (in the kernel, no copy through Python) where the file system has it."""
    remaining = size
    try:
        while remaining > 0:
            copied = os.copy_file_range(source, target, remaining)
            if copied == 0:
                break
            remaining -= copied
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    while remaining > 0:
        block = os.read(source, min(CHUNK_SIZE, remaining))
        if not block:
            raise OSError(errno.EIO, "an upload part ended before its size")
        os.write(target, block)
        remaining -= len(block)


def _read_file(path: Path, offset: int, length: int | None) -> Iterator[bytes]:
    # Open eagerly so a missing file raises at call time, not at first iteration.
    handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below

    def chunks() -> Iterator[bytes]:
        with handle:
            handle.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                size = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                data = handle.read(size)
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data

    return chunks()


class FilesystemDriver:
    """Stores each registry under ``<root>/registries/<registry id>``."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        (self._root / "registries").mkdir(parents=True, exist_ok=True)
        for registry_id in self.registry_ids():
            trash.sweep(self._root / "registries" / registry_id / "trash")

    def registry(self, registry_id: str) -> FilesystemBlobStore:
        return FilesystemBlobStore(self._root / "registries" / _safe_component(registry_id))

    def registry_ids(self) -> Iterator[str]:
        return iter(sorted(entry.name for entry in os.scandir(self._root / "registries") if entry.is_dir()))

    def delete_registry(self, registry_id: str) -> None:
        shutil.rmtree(self._root / "registries" / _safe_component(registry_id), ignore_errors=True)
