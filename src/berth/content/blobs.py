"""Blobs of one registry: read, delete, upload sessions, commit and cross-repository mount."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from sqlalchemy import Connection

from berth import errors
from berth.content import locks
from berth.content.uploads import RunningHash, SessionHashes, append, rehash
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata import pulls
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.names import Digest
from berth.storage import BlobStore


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int


class BlobService:
    def __init__(self, registry_id: str, db: Database, store: BlobStore, hashes: SessionHashes) -> None:
        self.registry_id = registry_id
        self._db = db
        self._store = store
        self._hashes = hashes

    # --- reading --------------------------------------------------------------------------

    async def stat(self, repository: str, digest: Digest) -> BlobInfo:
        repo, size = await self._db.read(pulls.blob_lookup, self.registry_id, repository, str(digest))
        if repo is not None:
            locks.check_repository_read(repo)
        if size is None:
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": str(digest)})
        return BlobInfo(str(digest), size)

    def local_path(self, digest: Digest) -> Path | None:
        return self._store.local_path(str(digest))

    async def stream(self, digest: Digest, offset: int, length: int) -> AsyncIterator[bytes]:
        iterator = await anyio.to_thread.run_sync(self._store.read, str(digest), offset, length)
        sentinel = object()
        while True:
            block = await anyio.to_thread.run_sync(next, iterator, sentinel)
            if block is sentinel:
                return
            assert isinstance(block, bytes)
            yield block

    async def unlink(self, repository: str, digest: Digest) -> None:
        """DELETE of a blob removes it from the repository; bytes stay until no one links them."""
        repo = await self._db.read(repository_rows.get, self.registry_id, repository)
        if repo is None or not await self._db.write(blob_rows.unlink, repo.id, str(digest)):
            raise WireError(errors.BLOB_UNKNOWN, detail={"digest": str(digest)})

    # --- mount ----------------------------------------------------------------------------

    async def mount(self, repository: str, digest: Digest, source: str | None) -> BlobInfo | None:
        """Link an existing blob into ``repository``; None when it cannot be found."""

        def work(conn: Connection) -> int | None:
            if source is not None:
                source_repo = repository_rows.get(conn, self.registry_id, source)
                if source_repo is None:
                    return None
                size = blob_rows.linked_blob_size(conn, source_repo.id, str(digest))
            else:
                size = blob_rows.registry_blob_size(conn, self.registry_id, str(digest))
            if size is None:
                return None
            target = repository_rows.ensure(conn, self.registry_id, repository)
            blob_rows.link(conn, target.id, str(digest))
            return size

        size = await self._db.write(work)
        return BlobInfo(str(digest), size) if size is not None else None

    # --- upload sessions ------------------------------------------------------------------

    async def start_upload(self, repository: str) -> blob_rows.UploadRecord:
        upload_id = str(uuid.uuid4())
        return await self._db.write(blob_rows.create_upload, upload_id, self.registry_id, repository)

    async def get_upload(self, repository: str, upload_id: str) -> blob_rows.UploadRecord:
        try:
            uuid.UUID(upload_id)
        except ValueError:
            raise WireError(errors.BLOB_UPLOAD_UNKNOWN, detail={"uuid": upload_id}) from None
        record = await self._db.read(blob_rows.get_upload, upload_id)
        if record is None or record.registry_id != self.registry_id or record.repository != repository:
            raise WireError(errors.BLOB_UPLOAD_UNKNOWN, detail={"uuid": upload_id})
        return record

    async def _running_hash(self, upload: blob_rows.UploadRecord) -> RunningHash:
        running = self._hashes.take(upload.id, upload.size)
        if running is None:
            running = await rehash(self._store, upload.id, upload.size)
            if running.offset != upload.size:
                raise WireError(
                    errors.BLOB_UPLOAD_INVALID, "the stored data of this upload is incomplete; start again"
                )
        return running

    async def write_chunk(
        self, upload: blob_rows.UploadRecord, chunks: AsyncIterable[bytes], expected_length: int | None
    ) -> blob_rows.UploadRecord:
        """Append a chunk at the session's current end and record the new size."""
        running = await self._running_hash(upload)
        try:
            received = await append(self._store, upload.id, upload.size, chunks, running)
        except BaseException:
            self._hashes.forget(upload.id)
            raise
        if expected_length is not None and received != expected_length:
            self._hashes.forget(upload.id)
            raise WireError(
                errors.SIZE_INVALID,
                f"received {received} bytes but the request declared {expected_length}",
            )
        new_size = upload.size + received
        if received and not await self._db.write(blob_rows.advance_upload, upload.id, upload.size, new_size):
            self._hashes.forget(upload.id)
            raise WireError(
                errors.RANGE_INVALID, "another request wrote to this upload at the same time", status=416
            )
        self._hashes.put(upload.id, running)
        return blob_rows.UploadRecord(
            upload.id, upload.registry_id, upload.repository, new_size, upload.created_at, upload.updated_at
        )

    async def complete(self, upload: blob_rows.UploadRecord, digest: Digest) -> BlobInfo:
        """Verify the session's bytes against ``digest`` and make them the blob."""
        running = self._hashes.take(upload.id, upload.size)
        if running is None or digest.algorithm != "sha256":
            running = await rehash(self._store, upload.id, upload.size, digest.algorithm)
        actual = f"{digest.algorithm}:{running.hasher.hexdigest()}"
        if actual != str(digest) or running.offset != upload.size:
            await self.cancel(upload)
            raise WireError(
                errors.DIGEST_INVALID,
                f"provided digest {digest} did not match uploaded content ({actual})",
                detail={"digest": str(digest)},
            )
        existing = await anyio.to_thread.run_sync(self._store.stat, str(digest))
        if existing is None:
            await anyio.to_thread.run_sync(self._store.commit_upload, upload.id, str(digest))
        else:
            await anyio.to_thread.run_sync(self._store.delete_upload, upload.id)

        def record(conn: Connection) -> None:
            blob_rows.record_blob(conn, self.registry_id, str(digest), upload.size)
            repo = repository_rows.ensure(conn, self.registry_id, upload.repository)
            blob_rows.link(conn, repo.id, str(digest))
            blob_rows.delete_upload(conn, upload.id)

        await self._db.write(record)
        return BlobInfo(str(digest), upload.size)

    async def cancel(self, upload: blob_rows.UploadRecord) -> None:
        self._hashes.forget(upload.id)
        await self._db.write(blob_rows.delete_upload, upload.id)
        await anyio.to_thread.run_sync(self._store.delete_upload, upload.id)
