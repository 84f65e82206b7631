"""Request bodies read straight from the socket by a worker thread (``berth.request.direct``).

Even without uvicorn's copies (:mod:`berth.request_bodies`), every byte of a pushed blob passes
through the event loop: uvloop reads the socket into a new ``bytes``, httptools copies each
piece again, the application joins the pieces into blocks and hands them to a thread that
hashes and writes them. Per GiB that is ~1 s of CPU on the loop thread and as much again in
the worker, and the two wait for each other's GIL: a 1 GiB push ran at ~400 MB/s with both
threads less than half busy. A plain Python reader that calls ``recv_into`` on reused buffers,
writes each one and hashes it in a second thread receives the same body at ~1,100 MB/s here.

:class:`DirectBodies` offers that to the application, as the private ASGI extension
:data:`DIRECT_BODY` (``scope["extensions"][DIRECT_BODY]["body"]``, a :class:`DirectBody`), on
plain-HTTP requests whose body has a ``Content-Length`` (not chunked: the socket then holds
exactly the rest of the body and nothing of the next request). The application, on the event
loop, before it has called ``receive()``:

1. :meth:`DirectBody.take` pauses reading on the connection and returns the pieces the parser
   had already produced (``None`` when the body can no longer be taken: the application read
   some of it, or the client left). An ``Expect: 100-continue`` is answered here;
2. :meth:`DirectBody.readinto`, from one worker thread, reads the rest of the body from a
   duplicate of the connection's descriptor (never past the body's end); it raises
   :class:`BodyInterrupted` when the client closes the connection or sends nothing for
   :data:`IDLE_SECONDS`;
3. :meth:`DirectBody.release`, back on the loop once the thread is done, gives the connection
   back: a fresh parser, the request's body marked complete, reading resumed. When the
   application stopped early (a full disk), the unread rest of the body is read and dropped as
   it arrives, so the client can send it and then read the answer, and the connection stays
   usable, as uvicorn does for a body the application does not read. When the client left,
   the connection is closed.

TLS connections (the record layer is in user space) and chunked bodies keep the ordinary path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from berth.request_bodies import GatheredBodies, GatheredBodyCycle

DIRECT_BODY = "berth.request.direct"
IDLE_SECONDS = 300.0  # a body that sends nothing for this long is given up
POLL_SECONDS = 1.0  # how soon a reading thread notices that the connection was lost


class BodyInterrupted(ConnectionError):
    """The client closed the connection, or went silent, before the end of the body."""


class DirectBody:
    """The rest of one request's body, for one worker thread to read (see the module's docstring)."""

    def __init__(self, protocol: DirectBodies, cycle: GatheredBodyCycle, length: int) -> None:
        self._protocol = protocol
        self._cycle = cycle
        self._length = length
        self._remaining = 0
        self._socket: socket.socket | None = None
        self._taken = False
        self._interrupted = False
        self._abandoned = threading.Event()
        self.bytes_read = 0  # the body bytes handed to the application this way

    @property
    def length(self) -> int:
        """The body's declared length."""
        return self._length

    def take(self) -> list[bytes] | None:
        """On the event loop: the pieces already parsed, the rest left on the socket for
        :meth:`readinto`; ``None`` when the body cannot be taken (it is read the usual way)."""
        cycle, protocol = self._cycle, self._protocol
        transport = cycle.transport
        if self._taken or cycle.receiving or cycle.disconnected or cycle.response_started:
            return None
        if transport.is_closing():  # the client left while the request waited to run
            return None
        if cycle.more_body:  # the parser is inside this body: the rest is on the socket
            try:
                descriptor = os.dup(transport.get_extra_info("socket").fileno())
            except OSError:  # out of descriptors: read it the usual way
                return None
            self._socket = socket.socket(fileno=descriptor)
            self._socket.settimeout(POLL_SECONDS)
            self._remaining = self._length - cycle.parsed
            protocol.flow.pause_reading()
            protocol.direct_body = self
        self._taken = True
        if cycle.waiting_for_100_continue:
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        pieces = list(cycle.pieces)
        cycle.pieces.clear()
        cycle.queued = 0
        self.bytes_read = sum(len(piece) for piece in pieces)
        return pieces

    def readinto(self, buffer: memoryview) -> int:
        """From a worker thread: read up to ``len(buffer)`` bytes of the body; 0 at its end."""
        wanted = min(len(buffer), self._remaining)
        if wanted <= 0 or self._socket is None:
            return 0
        silent = 0.0
        while True:
            if self._abandoned.is_set():
                self._interrupted = True
                raise BodyInterrupted("the connection was lost before the end of the body")
            try:
                count = self._socket.recv_into(buffer, wanted)
            except TimeoutError:
                silent += POLL_SECONDS
                if silent >= IDLE_SECONDS:
                    self._interrupted = True
                    raise BodyInterrupted(f"the client sent nothing for {IDLE_SECONDS:g} s") from None
                continue
            except OSError as exc:
                self._interrupted = True
                raise BodyInterrupted(f"the connection failed: {exc}") from exc
            if count == 0:
                self._interrupted = True
                raise BodyInterrupted("the client closed the connection before the end of the body")
            self._remaining -= count
            self.bytes_read += count
            return count

    def release(self) -> None:
        """On the event loop, once no thread reads any more: give the connection back."""
        if self._socket is None:
            return
        self._socket.close()
        self._socket = None
        self._protocol.end_direct_body(self._cycle, self._remaining, self._interrupted)

    def abandon(self) -> None:
        """The connection is gone: a thread still reading stops within :data:`POLL_SECONDS`."""
        self._abandoned.set()


def bytes_read_directly(scope: Any) -> int:
    """The body bytes a request's application read through :class:`DirectBody` (for the log)."""
    offered = scope.get("extensions", {}).get(DIRECT_BODY)
    return offered["body"].bytes_read if offered else 0


class DirectBodies(GatheredBodies):
    """The protocol that offers :data:`DIRECT_BODY` (see the module's docstring)."""

    direct_body: DirectBody | None = None  # the body a thread is reading now
    _skipping = 0  # bytes of an abandoned body still to be dropped

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is previous or not isinstance(cycle, GatheredBodyCycle) or self.scheme != "http":
            return
        length = _declared_length(self.headers)
        if length:
            self.scope.setdefault("extensions", {})[DIRECT_BODY] = {"body": DirectBody(self, cycle, length)}

    def data_received(self, data: bytes) -> None:
        if not self._skipping:
            super().data_received(data)
            return
        # The answer may be sent already, which armed the keep-alive timer: as uvicorn's own
        # data_received does, bytes arriving stop it (a long rest must not be cut off).
        self._unset_keepalive_if_required()
        dropped = min(self._skipping, len(data))
        self._skipping -= dropped
        if self._skipping:
            return
        self.on_message_complete()
        if len(data) > dropped and not self.transport.is_closing():
            self.data_received(data[dropped:])  # the next request, through every check again

    def connection_lost(self, exc: Exception | None) -> None:
        if self.direct_body is not None:
            self.direct_body.abandon()
        super().connection_lost(exc)

    def end_direct_body(self, cycle: GatheredBodyCycle, unread: int, interrupted: bool) -> None:
        """The thread has stopped reading ``cycle``'s body, with ``unread`` bytes of it left."""
        self.direct_body = None
        cycle.more_body = False
        if interrupted or self.transport.is_closing() or self.parser is None:
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.close()
            return
        # The parser never saw the bytes read directly: a new one starts at the next request.
        self.parser = _new_parser(self)
        cycle.message_event.set()
        if unread:
            self._skipping = unread
        else:
            self.on_message_complete()
        self.flow.resume_reading()


def _new_parser(protocol: HttpToolsProtocol) -> httptools.HttpRequestParser:
    parser = httptools.HttpRequestParser(protocol)
    with contextlib.suppress(AttributeError):  # as uvicorn sets up its own parser
        parser.set_dangerous_leniencies(lenient_data_after_close=True)
    return parser


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The body's ``Content-Length``; None for a chunked body (or none at all)."""
    length = None
    for name, value in headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length" and value.strip().isdigit():
            length = int(value)
    return length
