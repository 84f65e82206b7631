"""Upload sessions of one registry: start, append a chunk, complete, cancel.

The rules that keep a digest honest when requests race on one session:

- every request that sends bytes writes a new part that no other request opens (or, on the
  filesystem, appends it to the session's spine under its lock: :mod:`berth.storage.spine`);
- the session accepts a part by compare-and-set on its size in the metadata database, so of
  two chunks sent at the same offset exactly one is accepted, and it is the one answered 202;
  the other is answered 416 and its part is deleted: a refused request changes nothing;
- completion hashes the accepted parts (in memory while they arrive, or again from storage),
  puts exactly those parts in place under the digest, then ends the session by
  compare-and-set on the size it verified: a chunk accepted in between makes the completion
  fail (416) instead of being dropped, and a completed or deleted session accepts nothing more;
- a session whose recorded parts are not all there (a crash, an older berth's session) is
  dropped with 404 ``BLOB_UPLOAD_UNKNOWN``, so the client starts again;
- a completion that would take the registry past its storage quota (:mod:`berth.content.quota`)
  is refused before the body is read when its length is declared, before the blob is put in
  place, and finally in the transaction that records it (under the collection lock, so two
  racing uploads cannot both take the last bytes); the session and its parts are removed, and
  bytes put in place for a blob the registry does not record are deleted again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable

import anyio
import anyio.to_thread
from sqlalchemy import Connection

from berth import errors, faults
from berth.content.quota import StorageQuota
from berth.content.uploads import RunningHash, SessionHashes, rehash, write_part
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata import collection
from berth.metadata import repositories as repository_rows
from berth.metadata.blobs import UploadPart, UploadRecord
from berth.metadata.database import Database
from berth.names import Digest
from berth.storage import BlobStore

log = logging.getLogger("berth.uploads")

RACED = "another request wrote to this upload at the same time"
LOST = (
    "the stored data of this upload is gone (the service restarted while it changed); start the upload again"
)


def unknown_upload(upload_id: str, message: str | None = None) -> WireError:
    return WireError(errors.BLOB_UPLOAD_UNKNOWN, message, detail={"uuid": upload_id})


class UploadSessions:
    def __init__(
        self,
        registry_id: str,
        db: Database,
        store: BlobStore,
        hashes: SessionHashes,
        quota: StorageQuota | None = None,
    ) -> None:
        self.registry_id = registry_id
        self._db = db
        self._store = store
        self._hashes = hashes
        self._quota = quota

    async def start(self, repository: str) -> UploadRecord:
        upload_id = str(uuid.uuid4())
        return await self._db.write(blob_rows.create_upload, upload_id, self.registry_id, repository)

    async def get(self, repository: str, upload_id: str) -> UploadRecord:
        try:
            uuid.UUID(upload_id)
        except ValueError:
            raise unknown_upload(upload_id) from None
        record = await self._db.read(blob_rows.get_upload, upload_id)
        if record is None or record.registry_id != self.registry_id or record.repository != repository:
            raise unknown_upload(upload_id)
        if not record.consistent:
            await self._drop(record)
            raise unknown_upload(upload_id, LOST)
        return record

    async def write_chunk(
        self, upload: UploadRecord, chunks: AsyncIterable[bytes], expected_length: int | None
    ) -> UploadRecord:
        """Write a chunk as a new part and append it to the session, if nothing else did first."""
        running = await self._running_hash(upload)
        part, received = await self._write_part(upload, chunks, expected_length, running)
        if part is None:
            self._hashes.put(upload.id, running)
            return upload
        faults.reached("upload.part-written")
        if not await self._db.write(blob_rows.accept_part, upload.id, upload.size, part, received):
            await self._delete_part(upload.id, part)
            raise await self._raced(upload.id)
        running.offset = upload.size + received
        self._hashes.put(upload.id, running)
        accepted = UploadPart(part, upload.size, received)
        return UploadRecord(
            upload.id,
            upload.registry_id,
            upload.repository,
            upload.size + received,
            upload.created_at,
            upload.updated_at,
            (*upload.parts, accepted),
        )

    async def complete(
        self,
        upload: UploadRecord,
        digest: Digest,
        last_chunk: AsyncIterable[bytes] | None = None,
        expected_length: int | None = None,
    ) -> int:
        """Verify the session's parts (and ``last_chunk``) against ``digest``, make them the blob.

        The last chunk is written as a part but becomes the session's only together with the
        blob, in one transaction: a completion that is refused leaves the session as it was.
        Returns the blob's size.
        """
        if digest.algorithm == "sha256":
            running = await self._running_hash(upload)
        else:
            self._hashes.forget(upload.id)
            running = await self._rehash(upload, digest.algorithm)
        parts, size = upload.part_names, upload.size
        if last_chunk is not None and expected_length is not None:  # refused before reading the body
            await self._check_quota(upload, digest, size + expected_length, drain_body=True)
        last_part = None
        if last_chunk is not None:
            last_part, received = await self._write_part(
                upload, last_chunk, expected_length, running, whole=not upload.parts
            )
            if last_part is not None:
                parts, size = (*parts, last_part), size + received
        try:
            await self._check_quota(upload, digest, size)
            await self._commit(upload, digest, running, parts, size)
        except BaseException as exc:
            if last_part is not None:
                await self._delete_part(upload.id, last_part)
            if errors.is_storage_quota_refusal(exc):
                await self._end(upload)
            raise
        await anyio.to_thread.run_sync(self._store.delete_upload, upload.id)
        return size

    async def _commit(
        self, upload: UploadRecord, digest: Digest, running: RunningHash, parts: tuple[str, ...], size: int
    ) -> None:
        actual = f"{digest.algorithm}:{running.hasher.hexdigest()}"
        if actual != str(digest):
            await self._end(upload)
            raise WireError(
                errors.DIGEST_INVALID,
                f"provided digest {digest} did not match uploaded content ({actual})",
                detail={"digest": str(digest)},
            )
        faults.reached("upload.verified")
        try:
            await anyio.to_thread.run_sync(self._store.commit_upload, upload.id, parts, str(digest))
        except FileNotFoundError:
            await self._drop(upload)
            raise unknown_upload(upload.id, LOST) from None
        faults.reached("upload.committed")

        def record(conn: Connection) -> None:
            collection.lock_registry(conn, self.registry_id)
            if not blob_rows.delete_upload(conn, upload.id, upload.size):
                raise _raced_in(conn, upload.id)
            if self._store.stat(str(digest)) is None:  # the GC swept an older copy meanwhile
                raise unknown_upload(upload.id, LOST)
            if self._quota is not None:
                try:
                    self._quota.check(conn, self.registry_id, str(digest), size)
                except WireError:
                    # Another upload took the last bytes since the check before the commit. The
                    # registry records no such blob, so the bytes just put in place are nobody's
                    # (a racing upload of the same digest finds them gone and is told to retry).
                    self._store.delete(str(digest))
                    raise
            blob_rows.record_blob(conn, self.registry_id, str(digest), size)
            repo = repository_rows.ensure(conn, self.registry_id, upload.repository)
            blob_rows.link(conn, repo.id, str(digest))

        await self._db.write(record)
        faults.reached("upload.recorded")

    async def _check_quota(
        self, upload: UploadRecord, digest: Digest, size: int, drain_body: bool = False
    ) -> None:
        """Refuse early a blob that would take the registry past its quota (see ``_commit``)."""
        quota = self._quota
        if quota is None or quota.limit is None:
            return
        try:
            await self._db.read(quota.check, self.registry_id, str(digest), size, drain_body)
        except WireError:
            if drain_body:  # nothing was written yet: the session ends here
                await self._end(upload)
            raise

    async def cancel(self, upload: UploadRecord) -> None:
        self._hashes.forget(upload.id)
        if not await self._db.write(blob_rows.delete_upload, upload.id):
            raise unknown_upload(upload.id)
        await anyio.to_thread.run_sync(self._store.delete_upload, upload.id)

    # --- helpers --------------------------------------------------------------------------

    async def _write_part(
        self,
        upload: UploadRecord,
        chunks: AsyncIterable[bytes],
        expected_length: int | None,
        running: RunningHash,
        whole: bool = False,
    ) -> tuple[str | None, int]:
        """Write a request body as a new part; (None, 0) for an empty body."""
        part = uuid.uuid4().hex
        try:
            received = await write_part(
                self._store, upload.id, part, chunks, running.hasher, whole, start=upload.size
            )
        except BaseException:
            await self._delete_part(upload.id, part)
            raise
        if expected_length is not None and received != expected_length:
            await self._delete_part(upload.id, part)
            raise WireError(
                errors.SIZE_INVALID, f"received {received} bytes but the request declared {expected_length}"
            )
        if received == 0:
            await self._delete_part(upload.id, part)
            return None, 0
        return part, received

    async def _running_hash(self, upload: UploadRecord) -> RunningHash:
        return self._hashes.take(upload.id, upload.size) or await self._rehash(upload, "sha256")

    async def _rehash(self, upload: UploadRecord, algorithm: str) -> RunningHash:
        try:
            running = await rehash(self._store, upload.id, upload.part_names, algorithm)
        except FileNotFoundError:
            running = None
        if running is None or running.offset != upload.size:
            await self._drop(upload)
            raise unknown_upload(upload.id, LOST)
        return running

    async def _end(self, upload: UploadRecord) -> None:
        """End a session that failed verification, unless another request changed it meanwhile."""
        self._hashes.forget(upload.id)
        if await self._db.write(blob_rows.delete_upload, upload.id, upload.size):
            await anyio.to_thread.run_sync(self._store.delete_upload, upload.id)

    async def _drop(self, upload: UploadRecord) -> None:
        log.warning(
            "dropping upload session %s of %s: its stored parts are incomplete", upload.id, upload.repository
        )
        await self._end(upload)

    async def _delete_part(self, upload_id: str, part: str) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._store.delete_part, upload_id, part)

    async def _raced(self, upload_id: str) -> WireError:
        return await self._db.read(_raced_in, upload_id)


def _raced_in(conn: Connection, upload_id: str) -> WireError:
    """The error for a request that lost a race on a session: 404 if it ended, else 416."""
    if blob_rows.get_upload(conn, upload_id) is None:
        return unknown_upload(upload_id)
    return WireError(errors.RANGE_INVALID, RACED, status=416)
