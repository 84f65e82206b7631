"""Request bodies handed to the application as uvicorn's parser produced them, not re-copied.

uvicorn's httptools protocol appends every piece of a body the parser produces to one
``bytearray`` (a copy), pauses reading once it holds 64 KiB, and each ``receive()`` copies the
``bytearray`` into new ``bytes`` and resumes reading: for a 1 GiB push that is two extra copies
of every byte, ~16,000 ``receive()`` wakeups and as many ``pause_reading``/``resume_reading``
pairs (two ``epoll_ctl`` calls each), 1.5-2.0 s of CPU on the event loop (docs/performance.md).

:class:`GatheredBodies` keeps the pieces instead, in a queue of ``bytes`` (each is already a
fresh object from the parser), pauses reading only when the queue holds more than
:data:`QUEUED_BODY_BYTES`, and :meth:`GatheredBodyCycle.receive` hands out a queued piece
without waiting when one is there. Memory per request stays bounded: the queue, plus one read
of the socket (the event loop reads at most 256 KiB at a time) that may arrive after a pause.
Everything else about a request (``Expect: 100-continue``, disconnects, pipelining, the
``http.disconnect`` message once the body is read) is uvicorn's behaviour, unchanged.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from uvicorn._types import ASGIReceiveEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

QUEUED_BODY_BYTES = 1024 * 1024


class GatheredBodyCycle(RequestResponseCycle):
    """uvicorn's request cycle whose body is a queue of pieces (see the module's docstring).

    uvicorn builds its own cycle for each request; :meth:`adopt` turns it into this class
    right after, before the application's task first runs (only ``receive`` differs).
    """

    pieces: deque[bytes]
    queued: int
    end_sent: bool
    parsed: int  # body bytes the parser has produced so far
    receiving: bool  # the application has called receive()

    @classmethod
    def adopt(cls, cycle: RequestResponseCycle) -> GatheredBodyCycle:
        cycle.__class__ = cls
        assert isinstance(cycle, cls)
        cycle.pieces = deque()
        cycle.queued = 0
        cycle.end_sent = False
        cycle.parsed = 0
        cycle.receiving = False
        return cycle

    async def receive(self) -> ASGIReceiveEvent:
        self.receiving = True
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.waiting_for_100_continue = False
        while True:
            if self.disconnected or self.response_complete:
                return {"type": "http.disconnect"}
            if self.pieces:
                body = self.pieces.popleft()
                self.queued -= len(body)
                if self.queued <= QUEUED_BODY_BYTES:
                    self.flow.resume_reading()
                more_body = bool(self.pieces) or self.more_body
                self.end_sent = not more_body
                return {"type": "http.request", "body": body, "more_body": more_body}
            if not self.more_body and not self.end_sent:
                self.end_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            # Nothing queued: wait for the parser (more body), the end of the response or the
            # client going away, as uvicorn's own receive does.
            self.flow.resume_reading()
            await self.message_event.wait()
            self.message_event.clear()


class GatheredBodies(HttpToolsProtocol):
    """The httptools protocol with :class:`GatheredBodyCycle`'s queued request bodies."""

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle: Any = self.cycle
        if cycle is not None and cycle is not previous and type(cycle) is RequestResponseCycle:
            GatheredBodyCycle.adopt(cycle)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if not isinstance(cycle, GatheredBodyCycle):  # an upgrade, or no cycle of ours
            super().on_body(body)
            return
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        cycle.pieces.append(body)
        cycle.queued += len(body)
        cycle.parsed += len(body)
        if cycle.queued > QUEUED_BODY_BYTES:
            self.flow.pause_reading()
        cycle.message_event.set()
