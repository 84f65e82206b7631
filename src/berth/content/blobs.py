"""Blobs of one registry: read (verifying small ones), delete and cross-repository mount."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import anyio.to_thread
from sqlalchemy import Connection

from berth import errors
from berth.content import locks
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata import collection, pulls
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.names import Digest
from berth.storage import BlobStore

VERIFY_ON_READ = 1024 * 1024  # whole blobs up to this size are hashed on every read

log = logging.getLogger("berth.blobs")


async def _blocks(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    sentinel = object()
    while True:
        block = await anyio.to_thread.run_sync(next, iterator, sentinel)
        if block is sentinel:
            return
        assert isinstance(block, bytes)
        yield block


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int


@dataclass(frozen=True)
class BlobFile:
    """An open local file holding a blob, and the range of it to send (zero-copy sends).

    Whoever sends it closes ``file``; opening it before the response starts keeps the bytes
    readable even if the blob is deleted while they are sent.
    """

    file: BinaryIO
    offset: int
    length: int


class BlobService:
    """``redirect_seconds`` > 0 turns on redirects of blob GETs (:meth:`redirect_url`)."""

    def __init__(self, registry_id: str, db: Database, store: BlobStore, redirect_seconds: int = 0) -> None:
        self.registry_id = registry_id
        self._db = db
        self._store = store
        self._redirect_seconds = redirect_seconds

    # --- reading --------------------------------------------------------------------------

    async def stat(self, repository: str, digest: Digest) -> BlobInfo:
        repo, size = await self._db.read(pulls.blob_lookup, self.registry_id, repository, str(digest))
        if repo is not None:
            locks.check_repository_read(repo)
        if size is None:
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": str(digest)})
        return BlobInfo(str(digest), size)

    async def redirect_url(self, info: BlobInfo) -> str | None:
        """Where to send a GET of this blob instead of serving it, or None to serve it.

        Only blobs larger than :data:`VERIFY_ON_READ` are redirected: berth hashes the small
        ones on every read and never serves one that does not match its digest, a check a
        redirect would skip; and for a blob that small the extra round trip costs more than
        the bytes. Large blobs are not verified on read by berth either way: clients check
        the digest of what they download.
        """
        if self._redirect_seconds <= 0 or info.size <= VERIFY_ON_READ:
            return None
        return await anyio.to_thread.run_sync(self._store.redirect_url, info.digest, self._redirect_seconds)

    async def open_file(self, info: BlobInfo, offset: int, length: int) -> BlobFile | None:
        """The blob's local file, open, for a server that sends files itself (zero-copy); None
        when the bytes must pass through :meth:`open` instead: a small blob read whole (it is
        verified), or a store without local files (an object store).

        Opened before any header is sent, like :meth:`open`: a blob whose bytes are gone is
        ``BLOB_UNKNOWN``, and one deleted after this is still sent whole.
        """
        if offset == 0 and length == info.size <= VERIFY_ON_READ:
            return None
        try:
            file = await anyio.to_thread.run_sync(self._open_local, info.digest)
        except FileNotFoundError:
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": info.digest}) from None
        return BlobFile(file, offset, length) if file is not None else None

    async def open(self, info: BlobInfo, offset: int, length: int) -> AsyncIterator[bytes] | bytes:
        """The bytes to send: whole and verified for a small blob, else a stream.

        Opening happens here, before any header is sent, so a blob whose bytes are gone is
        ``BLOB_UNKNOWN`` rather than a broken response. A whole blob of up to
        :data:`VERIFY_ON_READ` bytes is hashed before it is sent; one that does not match
        its digest is never served: it is removed so that the next push stores it again.
        """
        digest = info.digest
        if offset == 0 and length == info.size <= VERIFY_ON_READ:
            data = await anyio.to_thread.run_sync(self._read_verified, digest)
            if data is None:
                raise WireError(errors.BLOB_UNKNOWN, detail={"digest": digest})
            return data
        try:
            iterator = await anyio.to_thread.run_sync(self._store.read, digest, offset, length)
        except FileNotFoundError:
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": digest}) from None
        return _blocks(iterator)

    def _open_local(self, digest: str) -> BinaryIO | None:
        """The blob's local file, open for reading; None when the store has none (an object
        store, or a blob that is gone: :meth:`open` then says so). Raises
        ``FileNotFoundError`` when the blob was deleted after ``local_path`` found it."""
        path = self._store.local_path(digest)
        if path is None:
            return None
        return open(path, "rb", buffering=0)  # the response closes it

    def _read_verified(self, digest: str) -> bytes | None:
        try:
            data = b"".join(self._store.read(digest))
        except FileNotFoundError:
            return None
        algorithm, _, expected = digest.partition(":")
        if hashlib.new(algorithm, data).hexdigest() == expected:
            return data
        log.error(
            "blob %s of registry %s does not match its digest: removed; push it again",
            digest,
            self.registry_id,
        )
        self._store.delete(digest)
        self._db.write_sync(blob_rows.forget_blob, self.registry_id, digest)
        return None

    async def unlink(self, repository: str, digest: Digest) -> None:
        """DELETE of a blob removes it from the repository; bytes stay until no one links them."""
        repo = await self._db.read(repository_rows.get, self.registry_id, repository)
        if repo is None or not await self._db.write(blob_rows.unlink, repo.id, str(digest)):
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": str(digest)})

    # --- mount ----------------------------------------------------------------------------

    async def mount(
        self, repository: str, digest: Digest, source: str | None, may_pull: Callable[[str], bool]
    ) -> BlobInfo | None:
        """Link an existing blob into ``repository``; None when the caller cannot have it.

        The blob must be linked by a repository of this registry that the caller may pull
        (``source`` when given, else any) and whose content may be read. Otherwise the
        answer is the same as for a blob that does not exist, so a mount is never an oracle
        for content the caller may not read.
        """

        def work(conn: Connection) -> int | None:
            collection.lock_registry(conn, self.registry_id)  # against the GC's sweep
            holders = blob_rows.repositories_linking(conn, self.registry_id, str(digest), source)
            readable = [r for r in holders if r.attributes.read_enabled and may_pull(r.name)]
            if not readable:
                return None
            size = blob_rows.registry_blob_size(conn, self.registry_id, str(digest))
            if size is None:
                return None
            target = repository_rows.ensure(conn, self.registry_id, repository)
            blob_rows.link(conn, target.id, str(digest))
            return size

        size = await self._db.write(work)
        return BlobInfo(str(digest), size) if size is not None else None
