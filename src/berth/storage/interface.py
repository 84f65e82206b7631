"""The blob storage driver interface.

A driver is deliberately small and synchronous, like CNCF Distribution's: the registry's
content layer runs it in worker threads, hashes bytes on the way in and decides what is
visible. One :class:`BlobStore` holds one registry's blobs and upload sessions, so the
storage of registries is strictly separate. Every driver must pass the shared suite in
``tests/unit/storage/driver_suite.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class UploadWriter(Protocol):
    """Appends bytes to an upload session; nothing is visible as a blob until committed."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None:
        """Release the session; its bytes must be readable by the next writer or reader.

        Durability is :meth:`BlobStore.commit_upload`'s job: bytes are durable once the blob
        they became is committed (a crash before that may lose an unfinished session).
        """
        ...


class BlobStore(Protocol):
    """One registry's content-addressed blobs and its in-progress uploads."""

    def stat(self, digest: str) -> int | None:
        """Size of a committed blob, or None when it is not stored."""
        ...

    def read(self, digest: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a committed blob (or a byte range of it) in chunks.

        Raises ``FileNotFoundError`` when the blob is not stored.
        """
        ...

    def local_path(self, digest: str) -> Path | None:
        """A local file holding the blob, when the driver has one (enables zero-copy sends)."""
        ...

    def delete(self, digest: str) -> bool:
        """Remove a committed blob; False when it was not stored."""
        ...

    def upload_writer(self, upload_id: str, offset: int) -> UploadWriter:
        """Open a session for appending at ``offset``; bytes past ``offset`` are discarded."""
        ...

    def upload_size(self, upload_id: str) -> int | None:
        """Bytes stored for a session, or None when the session has no data."""
        ...

    def read_upload(self, upload_id: str) -> Iterator[bytes]:
        """Stream a session's bytes from the start (to re-hash after a restart)."""
        ...

    def commit_upload(self, upload_id: str, digest: str) -> None:
        """Atomically make a session's bytes the blob ``digest`` and drop the session."""
        ...

    def delete_upload(self, upload_id: str) -> None:
        """Drop a session and its bytes; no error when it does not exist."""
        ...


class StorageDriver(Protocol):
    """Hands out each registry's :class:`BlobStore`."""

    def registry(self, registry_id: str) -> BlobStore: ...

    def delete_registry(self, registry_id: str) -> None:
        """Remove every blob and upload of a registry."""
        ...
