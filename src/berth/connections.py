"""Connection limits for berth's HTTP server: header size, header time, idle time, count.

uvicorn's httptools protocol reads request headers without a size limit (llhttp has none of
its own), times out only idle keep-alive connections (never a connection that has not sent
a complete request yet) and accepts connections without bound. :class:`GuardedProtocol`
closes those holes, without touching how requests are served:

- **header size**: the request line and headers may take ``max_header_bytes``; the bytes fed to
  the parser are counted while it waits for the end of the headers, so a larger header is
  answered ``431 HEADERS_TOO_LARGE`` and the connection closed once the limit is reached,
  before more of it is read;
- **header time**: a request's line and headers must arrive within ``header_timeout``
  seconds of the connection being accepted (or of the first byte of a later request on a
  kept-alive connection); otherwise ``408 REQUEST_TIMEOUT`` (nothing when nothing was sent)
  and the connection is closed. This ends slow-loris and silent connections;
- **idle keep-alive**: uvicorn's ``timeout_keep_alive``, from ``keep_alive``;
- **connections**: at most ``max_connections`` at once. A connection beyond the limit evicts
  the connection that has waited longest for a request (idle or still sending headers); when
  every connection is busy with a request, it is answered ``503 UNAVAILABLE`` and closed.

Request bodies are not limited here: blob uploads are large and may be slow.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio.events import TimerHandle
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from berth import errors
from berth.config import Settings
from berth.direct_bodies import DirectBodies
from berth.errors import JSON_CONTENT_TYPE, ErrorCode, error_body
from berth.logformat import LoggedHttpProtocol
from berth.sendfile import ZeroCopySendProtocol

log = logging.getLogger("berth.connections")

REPORT_EVERY_SECONDS = 60.0


class Tally:
    """Refusals of one kind, logged at most once a minute with their count: an attack of
    thousands of connections writes a few lines, not thousands."""

    def __init__(self, level: int, what: str) -> None:
        self.level = level
        self.what = what
        self.count = 0
        self.reported_at: float | None = None

    def add(self, now: float, peer: str) -> None:
        self.count += 1
        if self.reported_at is None or now - self.reported_at >= REPORT_EVERY_SECONDS:
            log.log(
                self.level, "%s: %d since the last report, the latest from %s", self.what, self.count, peer
            )
            self.count = 0
            self.reported_at = now


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout: float
    keep_alive: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=float(settings.header_timeout_seconds),
            keep_alive=float(settings.keep_alive_seconds),
            max_connections=settings.max_connections,
        )


def raw_error(error: ErrorCode, message: str, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A complete HTTP/1.1 answer with the OCI error envelope that closes the connection."""
    body = error_body(error, message)
    head = [STATUS_LINE[error.status]]
    headers = (
        ("content-type", JSON_CONTENT_TYPE),
        ("content-length", str(len(body))),
        ("connection", "close"),
        *extra,
    )
    head += [f"{name}: {value}\r\n".encode() for name, value in headers]
    return b"".join([*head, b"\r\n", body])


class GuardedProtocol(DirectBodies, ZeroCopySendProtocol, LoggedHttpProtocol):
    """uvicorn's httptools protocol with berth's connection limits (:func:`protocol_for`), naming
    the client that sends bytes which are not HTTP (:class:`berth.logformat.LoggedHttpProtocol`),
    request bodies passed on without uvicorn's copies (:mod:`berth.request_bodies`) or read from
    the socket by a worker thread (:mod:`berth.direct_bodies`), and zero-copy blob bodies
    (:class:`berth.sendfile.ZeroCopySendProtocol`)."""

    limits: ClassVar[ConnectionLimits]
    refused_busy: ClassVar[Tally]
    refused_large: ClassVar[Tally]
    timed_out: ClassVar[Tally]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_timer: TimerHandle | None = None
        self._waiting_since = self.loop.time()

    # --- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._evict_longest_waiting():
            self.refused_busy.add(self.loop.time(), self._peer())
            message = "the service has too many connections; retry shortly"
            self._close_with(raw_error(errors.UNAVAILABLE, message, (("retry-after", "1"),)))
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._awaiting_headers:
            super().data_received(data)
            return
        room = self.limits.max_header_bytes - self._header_bytes
        if len(data) <= room:
            self._header_bytes += len(data)
            super().data_received(data)
            return
        # Feed only what the limit allows: if the headers end within it, go on with the rest.
        head, rest = data[:room], data[room:]
        self._header_bytes += len(head)
        if head:
            super().data_received(head)
        if self.transport.is_closing():
            return
        if self._still_awaiting_headers():  # the parser's callbacks may have ended the headers
            limit = self.limits.max_header_bytes
            self.refused_large.add(self.loop.time(), self._peer())
            message = f"the request line and headers exceed {limit} bytes"
            self._close_with(raw_error(errors.HEADERS_TOO_LARGE, message))
            return
        self.data_received(rest)

    # --- parser callbacks --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # a later request on a kept-alive connection
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_headers = True
        self._waiting_since = self.loop.time()

    # --- limits ------------------------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_headers:
            return
        if self._header_bytes:
            self.timed_out.add(self.loop.time(), self._peer())
            seconds = f"{self.limits.header_timeout:g}"
            message = f"the request line and headers did not arrive within {seconds} s"
            self._close_with(raw_error(errors.REQUEST_TIMEOUT, message))
        else:
            self.transport.close()

    def _still_awaiting_headers(self) -> bool:
        return self._awaiting_headers

    def _idle(self) -> bool:
        """Waiting for a request (silent, sending headers, or kept alive): safe to close."""
        cycle = self.cycle
        return self._awaiting_headers and (cycle is None or cycle.response_complete) and not self.pipeline

    def _evict_longest_waiting(self) -> bool:
        waiting = [
            c for c in self.connections if c is not self and isinstance(c, GuardedProtocol) and c._idle()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._waiting_since)
        log.debug("closed the longest-waiting connection from %s to make room", oldest._peer())
        oldest._cancel_header_timer()
        oldest.transport.close()
        return True

    def _close_with(self, answer: bytes) -> None:
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "an unknown address"


def protocol_for(limits: ConnectionLimits) -> type[GuardedProtocol]:
    """The protocol class uvicorn builds per connection, bound to ``limits``."""
    tallies = {
        "refused_busy": Tally(
            logging.WARNING, f"answered 503: all {limits.max_connections} connections busy"
        ),
        "refused_large": Tally(
            logging.INFO, f"answered 431: request headers over {limits.max_header_bytes} bytes"
        ),
        "timed_out": Tally(
            logging.INFO, f"answered 408: request headers not complete in {limits.header_timeout:g} s"
        ),
    }
    return type("BerthHttpProtocol", (GuardedProtocol,), {"limits": limits, **tallies})
