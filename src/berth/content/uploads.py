"""Streaming bytes into upload sessions: hashed on the way in, written off the event loop.

Each request that sends bytes writes a new part of its own (see ``berth.storage.interface``).
When the server lets a worker thread read the body from the socket itself
(:class:`DirectBody`, offered by :mod:`berth.direct_bodies` for bodies with a length), that
thread receives into reused buffers that two more threads hash and write
(:mod:`berth.content.direct_upload`). Otherwise receiving runs on the event loop while a
worker thread hashes and writes the previous block. Either way a push uses both cores. The
running hash of each session is kept in memory; after a restart (or on another replica) the
session's accepted parts are hashed again instead.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.to_thread

from berth.content import direct_upload
from berth.content.direct_upload import DirectBody
from berth.storage import BlobStore, UploadWriter

BLOCK_SIZE = 1024 * 1024
QUEUED_BLOCKS = 4
MAX_DIRECT_BODIES = 64  # bodies read by threads at once, per process; more take the loop's path
_MAX_TRACKED_SESSIONS = 1024
_direct_bodies = threading.BoundedSemaphore(MAX_DIRECT_BODIES)


@runtime_checkable
class DirectlyReadable(Protocol):
    """Request chunks that may also be read directly (see :class:`DirectBody`)."""

    def direct_body(self) -> DirectBody | None: ...


@dataclass
class RunningHash:
    offset: int
    hasher: Any  # hashlib object; hashlib has no public type


class SessionHashes:
    """The running SHA-256 of recent upload sessions, keyed by upload id (bounded, LRU).

    :meth:`take` removes the entry, so of two requests racing on one session only one can
    continue the in-memory hash; the other hashes the accepted parts again.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, RunningHash] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, upload_id: str, offset: int) -> RunningHash | None:
        """Remove and return the session's hash if it covers exactly ``offset`` bytes."""
        with self._lock:
            entry = self._entries.pop(upload_id, None)
        return entry if entry is not None and entry.offset == offset else None

    def put(self, upload_id: str, entry: RunningHash) -> None:
        with self._lock:
            self._entries[upload_id] = entry
            self._entries.move_to_end(upload_id)
            while len(self._entries) > _MAX_TRACKED_SESSIONS:
                self._entries.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)


def _absorb(writer: UploadWriter, hasher: Any, chunks: Sequence[bytes]) -> None:
    """Hash and write a block's chunks, joined into one block here in the worker thread.

    The event loop only gathers the chunks uvicorn hands over (up to 64 KiB each); the copy
    that joins them costs less than a hash update and a write per chunk (the quiet bench:
    2.1 s of server CPU per GiB joined, 2.5 s chunk by chunk). hashlib and file writes release
    the GIL for buffers this large, so the event loop keeps receiving meanwhile.
    """
    block = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    hasher.update(block)
    writer.write(block)


async def write_part(
    store: BlobStore,
    upload_id: str,
    part: str,
    chunks: AsyncIterable[bytes],
    hasher: Any,
    whole: bool = False,
    start: int | None = None,
) -> int:
    """Write a request body as a new part of a session; returns the number of bytes taken.

    ``hasher`` is advanced by exactly the bytes written to the part; ``whole`` (the part is
    the whole blob) and ``start`` (where it begins): see :meth:`BlobStore.part_writer`.
    """

    def open_writer() -> UploadWriter:
        return store.part_writer(upload_id, part, whole, start)

    direct = _direct_body(chunks)
    if direct is not None:
        try:
            pieces = direct.take()
            if pieces is not None:
                return await _receive_directly(direct, pieces, open_writer, hasher)
        finally:
            _direct_bodies.release()
    # Shielded: a cancellation while the thread opens the part would lose the open writer
    # (and, for an appender, keep the session's spine locked); it takes effect inside the try.
    with anyio.CancelScope(shield=True):
        writer = await anyio.to_thread.run_sync(open_writer)
    try:
        return await _receive_streamed(chunks, writer, hasher)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(writer.close)


def _direct_body(chunks: AsyncIterable[bytes]) -> DirectBody | None:
    """The body to read from the socket: one with a length over a block, while threads are free."""
    if not isinstance(chunks, DirectlyReadable):
        return None
    direct = chunks.direct_body()
    if direct is None or direct.length <= BLOCK_SIZE or not _direct_bodies.acquire(blocking=False):
        return None
    return direct


async def _receive_directly(
    direct: DirectBody, pieces: list[bytes], open_writer: Callable[[], UploadWriter], hasher: Any
) -> int:
    """Open the part, receive the body into it and close it, all in one worker thread (each
    trip between the event loop and a thread costs ~0.3 ms here, several per chunk)."""

    def work() -> int:
        writer = open_writer()
        try:
            return direct_upload.receive(direct, pieces, writer, hasher)
        finally:
            writer.close()

    # A limiter of its own: a slow client holds this thread, not a token every request shares.
    limiter = anyio.CapacityLimiter(1)
    try:
        return await anyio.to_thread.run_sync(work, limiter=limiter)
    finally:
        direct.release()


async def _receive_streamed(chunks: AsyncIterable[bytes], writer: UploadWriter, hasher: Any) -> int:
    """Receive on the event loop; a worker thread hashes and writes each block."""
    send, receive = anyio.create_memory_object_stream[list[bytes]](max_buffer_size=QUEUED_BLOCKS)
    received = 0

    async def drain() -> None:
        async with receive:
            async for block in receive:
                await anyio.to_thread.run_sync(_absorb, writer, hasher, block)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(drain)
            async with send:
                pending: list[bytes] = []
                pending_size = 0
                async for chunk in chunks:
                    if not chunk:
                        continue
                    pending.append(chunk)
                    pending_size += len(chunk)
                    if pending_size >= BLOCK_SIZE:
                        await send.send(pending)
                        received += pending_size
                        pending, pending_size = [], 0
                if pending:
                    await send.send(pending)
                    received += pending_size
    except BaseExceptionGroup as failed:
        # The task group wraps what went wrong (the client went away, the disk is full); the
        # callers answer each kind on its own, so the first cause is raised as itself.
        raise first_cause(failed) from None
    return received


def first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first exception a (possibly nested) exception group holds."""
    first = group.exceptions[0]
    return first_cause(first) if isinstance(first, BaseExceptionGroup) else first


async def rehash(
    store: BlobStore, upload_id: str, parts: Sequence[str], algorithm: str = "sha256"
) -> RunningHash:
    """Hash a session's accepted parts (after a restart, on another replica, or for sha512).

    Raises ``FileNotFoundError`` when a part is not stored.
    """

    def work() -> RunningHash:
        hasher = hashlib.new(algorithm)
        size = 0
        for block in store.read_parts(upload_id, parts):
            hasher.update(block)
            size += len(block)
        return RunningHash(offset=size, hasher=hasher)

    return await anyio.to_thread.run_sync(work)
