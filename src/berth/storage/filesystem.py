"""Filesystem storage driver: one folder per registry, blobs renamed into place atomically.

Layout under the driver's root::

    registries/<registry id>/blobs/<algorithm>/<first two hex>/<hex>
    registries/<registry id>/uploads/<upload id>/<part>              a part written apart
    registries/<registry id>/uploads/<upload id>/.spine              the chunks appended
    registries/<registry id>/uploads/<upload id>/<part>@<start>+<size>   one appended part

The chunks of a chunked upload are appended to the session's spine where that is safe
(:mod:`berth.storage.spine`); any other part (a monolithic upload, a chunk racing another)
is a file of its own, created exclusively by the one request that writes it. Commit fsyncs
the parts and puts them in place under the digest in one rename: a single part file, or a
spine that is exactly the accepted parts, is hard-linked (no copy); parts in several files
are concatenated in the kernel (``copy_file_range``) into a temporary file first. The
directory is fsynced after the rename, so a crash never leaves a partial blob visible, and
the parts stay until the session is deleted, so a crash between commit and the metadata
update loses nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from berth.storage import spine, trash
from berth.storage.part_files import FilePartWriter, PartFile, start_writeback
from berth.storage.spine import Extent

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

    def part_writer(
        self, upload_id: str, part: str, whole: bool = False, start: int | None = None
    ) -> PartFile:
        """A part of a chunked upload (``start`` given) is appended to the session's spine
        where it can be (:mod:`berth.storage.spine`); any other is a file of its own."""
        session = self._session_dir(upload_id)
        _safe_component(part)
        if start is not None and not whole:
            appender = spine.open_appender(session, part, start)
            if appender is not None:
                return appender
        return FilePartWriter(session / part, past_cache=whole)

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        session = self._session_dir(upload_id)
        try:
            entries = list(os.scandir(session))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        sizes = {
            e.name: e.stat().st_size
            for e in entries
            if not e.name.startswith(".") and spine.marker_of(e.name) is None
        }
        return sizes | spine.part_sizes(session)

    def read_parts(self, upload_id: str, parts: Sequence[str]) -> Iterator[bytes]:
        # Open every part first, so a missing one raises at call time.
        extents = self._locate(upload_id, parts)
        handles = [_read_file(extent.path, extent.offset, extent.size) for extent in extents]

        def chunks() -> Iterator[bytes]:
            for handle in handles:
                yield from handle

        return chunks()

    def delete_part(self, upload_id: str, part: str) -> None:
        session = self._session_dir(upload_id)
        if spine.remove(session, _safe_component(part)):
            return
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            (session / part).unlink()

    def _locate(self, upload_id: str, parts: Sequence[str]) -> list[Extent]:
        return spine.locate(self._session_dir(upload_id), [_safe_component(part) for part in parts])

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        target = self._blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.parent / f"{_TEMPORARY}{uuid.uuid4().hex}"
        extents = self._locate(upload_id, parts)
        replaced = _hold_large(target)  # its blocks are freed after the answer, not in the rename
        try:
            if len(extents) == 1 and extents[0].path.name != spine.SPINE:
                _fsync_file(extents[0].path)
                os.link(extents[0].path, staged)
            elif not spine.link_whole(self._session_dir(upload_id), extents, staged):
                _concatenate(extents, staged)
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


def _concatenate(sources: Sequence[Extent], target: Path) -> None:
    """Write the sources one after another into a new ``target``, then fsync it.

    Parts read from the disk: the next two are requested ahead (``POSIX_FADV_WILLNEED``)
    while one is copied, and each copied part's writeback is started at once, so the disk
    reads and writes all along (64 parts of 16 MiB here: 1.3 s where the file's default
    128 KiB readahead took 2.1-2.7 s).
    """
    for source in sources[:_PARTS_AHEAD]:
        _read_ahead(source)
    with open(target, "xb") as out:
        position = 0
        for index, source in enumerate(sources):
            if index + _PARTS_AHEAD < len(sources):
                _read_ahead(sources[index + _PARTS_AHEAD])
            with open(source.path, "rb") as handle:
                _copy_all(handle.fileno(), source.offset, out.fileno(), source.size)
            if start_writeback is not None:
                start_writeback(out.fileno(), position, source.size)
            position += source.size
        os.fsync(out.fileno())


_PARTS_AHEAD = 2


def _read_ahead(source: Extent) -> None:
    """Ask the kernel to read ``source`` into the page cache now (advisory: errors are ignored)."""
    with contextlib.suppress(OSError):
        fd = os.open(source.path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, source.offset, source.size, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _copy_all(source: int, offset: int, target: int, size: int) -> None:
    """``copy_file_range`` (in the kernel, no copy through Python) where the file system has it."""
    remaining = size
    try:
        while remaining > 0:
            copied = os.copy_file_range(source, target, remaining, offset)
            if copied == 0:
                break
            remaining -= copied
            offset += copied
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    while remaining > 0:
        block = os.pread(source, min(CHUNK_SIZE, remaining), offset)
        if not block:
            raise OSError(errno.EIO, "an upload part ended before its size")
        os.write(target, block)
        remaining -= len(block)
        offset += len(block)


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
