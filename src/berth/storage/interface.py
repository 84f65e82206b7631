"""The blob storage driver interface.

A driver is deliberately small and synchronous, like CNCF Distribution's: the registry's
content layer runs it in worker threads, hashes bytes on the way in and decides what is
visible. One :class:`BlobStore` holds one registry's blobs and upload sessions, so the
storage of registries is strictly separate. Every driver must pass the shared suite in
``tests/unit/storage/driver_suite.py``.

An upload session's bytes are a sequence of **parts**. Each request that sends bytes writes
a part of its own, which no other request ever opens; the metadata database records which
parts the session accepted, in order. So two requests racing on one session can never mix
their bytes, and the bytes that become a blob are exactly the parts that were hashed (the
same shape as Azure's staged blocks and S3's multipart uploads). The filesystem driver may
keep a session's parts in one file instead, appended to under a lock, with the same
guarantee (:mod:`berth.storage.spine`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol


class UploadWriter(Protocol):
    """Writes one new part of an upload session; nothing is visible as a blob until committed."""

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data``. It may be a view of a buffer the caller fills again once this
        returns: a writer that keeps bytes for later must copy them."""
        ...

    def close(self) -> None:
        """Finish the part; its bytes must be readable by the next reader.

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

    def redirect_url(self, digest: str, expires_in: int) -> str | None:
        """A URL from which any HTTP client may GET the committed blob for ``expires_in``
        seconds, without other credentials (an S3 presigned URL, an Azure SAS URL), or None
        when the driver cannot hand one out (the filesystem; Azure without an account key).

        Signing is local: the blob's presence is not checked (the metadata database said it is
        there). The URL holds a signature: it must never be logged.
        """
        ...

    def delete(self, digest: str) -> bool:
        """Remove a committed blob; False when it was not stored."""
        ...

    def part_writer(
        self, upload_id: str, part: str, whole: bool = False, start: int | None = None
    ) -> UploadWriter:
        """Open a new, empty part of a session. ``part`` is unique: no other writer shares it.

        ``whole``: the part is the session's first and its last (a monolithic upload), so it
        will become the blob as it is, never be copied into one; a driver may write it
        differently (the filesystem's writes past the page cache). ``start``: the session's
        size when the request read it, where this part would begin; a driver may then keep
        the part in one file with the session's other parts (the filesystem's spine), as long
        as no other request's bytes, accepted or not, are ever written over or mixed in."""
        ...

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        """The parts stored for a session and their sizes (empty when it has none)."""
        ...

    def read_parts(self, upload_id: str, parts: Sequence[str]) -> Iterator[bytes]:
        """Stream the given parts of a session, in order (to hash them again after a restart).

        Raises ``FileNotFoundError`` when a part is not stored.
        """
        ...

    def delete_part(self, upload_id: str, part: str) -> None:
        """Drop one part (a request whose bytes the session did not accept); no error when absent."""
        ...

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        """Atomically make the concatenation of ``parts`` the blob ``digest``.

        A blob already stored under ``digest`` is replaced by these bytes, which the caller
        has just verified. The session's parts stay until :meth:`delete_upload`, so a crash
        at any point leaves either the old state or the new one.
        """
        ...

    def delete_upload(self, upload_id: str) -> None:
        """Drop a session and all its parts; no error when it does not exist."""
        ...

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        """Every session that has bytes stored, with the time (epoch seconds) it last changed."""
        ...


class StorageDriver(Protocol):
    """Hands out each registry's :class:`BlobStore`."""

    def registry(self, registry_id: str) -> BlobStore: ...

    def registry_ids(self) -> Iterator[str]:
        """The registries that have anything stored."""
        ...

    def delete_registry(self, registry_id: str) -> None:
        """Remove every blob and upload of a registry."""
        ...
