"""Filesystem storage driver: one folder per registry, blobs renamed into place atomically.

Layout under the driver's root::

    registries/<registry id>/blobs/<algorithm>/<first two hex>/<hex>
    registries/<registry id>/uploads/<upload id>

An upload's bytes live in its own file until commit, which fsyncs it and renames it into
the blob path (then fsyncs the directory), so a crash never leaves a partial blob visible.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

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


class _FileUploadWriter:
    """Appends to a session's file. Nothing is fsynced here: a session's bytes become durable
    when :meth:`FilesystemBlobStore.commit_upload` fsyncs them, before the blob is visible."""

    def __init__(self, path: Path, offset: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, "r+b", buffering=0)
        self._file.truncate(offset)
        self._file.seek(offset)
        self._position = self._flushed = offset

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:] if written else view
        self._position += len(data)
        if _start_writeback is not None and self._position - self._flushed >= _WRITEBACK_EVERY:
            _start_writeback(self._file.fileno(), self._flushed, self._position - self._flushed)
            self._flushed = self._position

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._blobs = root / "blobs"
        self._uploads = root / "uploads"

    def _blob_path(self, digest: str) -> Path:
        algorithm, _, encoded = digest.partition(":")
        _safe_component(algorithm)
        _safe_component(encoded)
        return self._blobs / algorithm / encoded[:2] / encoded

    def _upload_path(self, upload_id: str) -> Path:
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

    def delete(self, digest: str) -> bool:
        try:
            self._blob_path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def upload_writer(self, upload_id: str, offset: int) -> _FileUploadWriter:
        return _FileUploadWriter(self._upload_path(upload_id), offset)

    def upload_size(self, upload_id: str) -> int | None:
        try:
            return self._upload_path(upload_id).stat().st_size
        except FileNotFoundError:
            return None

    def read_upload(self, upload_id: str) -> Iterator[bytes]:
        return _read_file(self._upload_path(upload_id), 0, None)

    def commit_upload(self, upload_id: str, digest: str) -> None:
        source = self._upload_path(upload_id)
        target = self._blob_path(digest)
        if not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            source.touch()
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def delete_upload(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._upload_path(upload_id).unlink()


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

    def registry(self, registry_id: str) -> FilesystemBlobStore:
        return FilesystemBlobStore(self._root / "registries" / _safe_component(registry_id))

    def delete_registry(self, registry_id: str) -> None:
        shutil.rmtree(self._root / "registries" / _safe_component(registry_id), ignore_errors=True)
