"""Zero-copy response bodies: ASGI's ``http.response.zerocopysend`` for uvicorn's httptools protocol.

uvicorn has neither ``http.response.pathsend`` nor ``zerocopysend``, and uvloop's transports do
not implement ``loop.sendfile`` (it raises ``NotImplementedError``; asyncio's fallback reads
and writes through Python). So a blob streamed through uvicorn costs a read, a write and a
thread hop per block. :class:`ZeroCopySendProtocol` adds the ASGI extension
(https://asgi.readthedocs.io/en/latest/extensions.html#zero-copy-send) to the protocol:

- it is advertised in ``scope["extensions"]`` on plain-HTTP connections only (TLS encrypts in
  user space, so there is nothing to send a file into);
- the application opens the file itself, before it starts the response, and sends
  ``{"type": "http.response.zerocopysend", "file": <file object>, "offset": a, "count": n}``
  after ``http.response.start``: a file deleted after it was opened is still sent whole;
- the protocol waits until the transport has written everything it holds (the headers, and
  anything left of an earlier response), then calls ``os.sendfile`` on a duplicate of the
  connection's socket descriptor (uvloop refuses ``add_writer`` on a transport's own
  descriptor; the duplicate also keeps the socket open while the transport closes, so the
  descriptor number can never be reused by another connection mid-send). The socket is
  non-blocking: ``EAGAIN`` waits for writability on the event loop;
- reading the file blocks when its pages are not in the page cache (a blob nobody pulled
  lately), and the event loop must not wait for the disk: each window of :data:`WINDOW` bytes
  is probed first (:func:`in_page_cache`, a one-byte ``RWF_NOWAIT`` read of its first and last
  page, which also starts the kernel's readahead) and sent from a worker thread when it is not
  cached. A cached window is sent on the loop: a thread hop per window cost ~0.14 s of CPU per
  GiB more on a warm pull;
- the response then completes through uvicorn's own ``send`` (an empty last body message), so
  Content-Length accounting, keep-alive, pipelining and the access log stay uvicorn's.

A client that goes away mid-send ends the send with :class:`SendInterrupted` (an ``OSError``,
as ASGI 2.4 says ``send`` raises for a closed connection), carrying the bytes sent; the
connection is closed and marked disconnected so uvicorn writes nothing more for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ZERO_COPY_SEND = "http.response.zerocopysend"
WINDOW = 4 * 1024 * 1024  # bytes per sendfile call; a loopback socket takes ~3 MB per call
PAGE = 4096

Send = Callable[[Any], Awaitable[None]]


class SendInterrupted(ConnectionError):
    """The connection closed before a zero-copy body was sent; ``sent`` bytes of it went out."""

    def __init__(self, sent: int, reason: str) -> None:
        super().__init__(reason)
        self.sent = sent


class ZeroCopySendProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with ``http.response.zerocopysend`` on plain-HTTP connections."""

    _wake_sender: Callable[[], None] | None = None

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is previous or self.scheme != "http":  # an upgrade (no new cycle), or TLS
            return
        self.scope["extensions"] = {ZERO_COPY_SEND: {}}
        cycle.send = _ZeroCopySender(self, cycle).send  # type: ignore[method-assign]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._wake_sender is not None:
            self._wake_sender()


class _ZeroCopySender:
    """One request's ``send``: uvicorn's, plus the zero-copy body message."""

    def __init__(self, protocol: ZeroCopySendProtocol, cycle: RequestResponseCycle) -> None:
        self._protocol = protocol
        self._cycle = cycle
        self._send: Send = cycle.send

    async def send(self, message: Any) -> None:
        if message["type"] != ZERO_COPY_SEND:
            await self._send(message)
            return
        cycle = self._cycle
        if not cycle.response_started or cycle.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{ZERO_COPY_SEND}' outside a response body.")
        more_body = bool(message.get("more_body", False))
        if cycle.disconnected or cycle.scope["method"] == "HEAD":
            await self._send({"type": "http.response.body", "body": b"", "more_body": more_body})
            return
        fd = message["file"].fileno()
        offset = message.get("offset")
        advance = offset is None  # from (and then past) the file's position, as the extension says
        if offset is None:
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        count = message.get("count")
        if count is None:
            count = os.fstat(fd).st_size - offset
        if not cycle.chunked_encoding and count > cycle.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        transport = cycle.transport
        if cycle.chunked_encoding and count:
            transport.write(b"%x\r\n" % count)
        await self._transmit(fd, offset, count)
        if advance:
            os.lseek(fd, offset + count, os.SEEK_SET)
        if cycle.chunked_encoding:
            if count:
                transport.write(b"\r\n")
        else:
            cycle.expected_content_length -= count
        await self._send({"type": "http.response.body", "body": b"", "more_body": more_body})

    async def _transmit(self, fd: int, offset: int, count: int) -> None:
        cycle = self._cycle
        transport = cycle.transport
        await _flush(transport, cycle)
        if transport.is_closing():
            self._interrupted(0, "the connection closed before the body was sent")
        sock = os.dup(transport.get_extra_info("socket").fileno())
        try:
            sent = await self._sendfile(sock, fd, offset, count)
        finally:
            os.close(sock)
        if sent < count:
            self._interrupted(sent, "the connection closed while the body was being sent")

    async def _sendfile(self, sock: int, fd: int, offset: int, count: int) -> int:
        """``os.sendfile`` until ``count`` bytes are sent; fewer when the connection ends."""
        protocol = self._protocol
        loop = protocol.loop
        transport = self._cycle.transport
        sent = 0
        while sent < count:
            if transport.is_closing():
                return sent
            window = min(count - sent, WINDOW)
            try:
                if in_page_cache(fd, offset + sent, window):
                    written = os.sendfile(sock, fd, offset + sent, window)
                else:  # reading from the disk blocks: not on the event loop
                    written = await anyio.to_thread.run_sync(os.sendfile, sock, fd, offset + sent, window)
            except BlockingIOError:
                await _writable(loop, sock, protocol)
                continue
            except (BrokenPipeError, ConnectionError):
                return sent
            if written == 0:  # the file is shorter than the response says
                raise RuntimeError(f"the file ended {count - sent} bytes before the response body")
            sent += written
        return sent

    def _interrupted(self, sent: int, reason: str) -> None:
        cycle = self._cycle
        cycle.disconnected = True
        if not cycle.transport.is_closing():
            cycle.transport.close()
        raise SendInterrupted(sent, reason)


async def _flush(transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
    """Wait until the transport has written all it holds, so the file's bytes follow them.

    With both limits at zero the transport pauses the protocol at once while anything is
    buffered and resumes it only when nothing is (uvloop applies new limits immediately).
    """
    if not transport.get_write_buffer_size():
        return
    low, high = transport.get_write_buffer_limits()
    transport.set_write_buffer_limits(high=0, low=0)
    try:
        while transport.get_write_buffer_size() and not transport.is_closing():
            await cycle.flow.drain()
    finally:
        if not transport.is_closing():
            transport.set_write_buffer_limits(high=high, low=low)


async def _writable(loop: asyncio.AbstractEventLoop, sock: int, protocol: ZeroCopySendProtocol) -> None:
    """Until ``sock`` can take more bytes, or the connection is lost."""
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(sock, wake)
    protocol._wake_sender = wake
    try:
        await ready
    finally:
        protocol._wake_sender = None
        loop.remove_writer(sock)


def in_page_cache(fd: int, offset: int, length: int) -> bool:
    """Whether the first and last page of ``fd[offset:offset + length]`` are in the page cache
    (a read that would wait for the disk fails with ``EAGAIN`` under ``RWF_NOWAIT``). False
    where the file system cannot tell, so the caller errs on the side of the worker thread."""
    probe = bytearray(1)
    for position in {offset, max(offset, offset + length - PAGE)}:
        try:
            os.preadv(fd, [probe], position, os.RWF_NOWAIT)
        except OSError:  # EAGAIN: not cached; EOPNOTSUPP: the file system cannot say
            return False
    return True
