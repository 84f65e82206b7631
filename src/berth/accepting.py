"""Accepting connections in batches: uvicorn's server with an accept loop of berth's own.

uvloop's listening server (libuv 1.52) accepts *one* connection per turn of the event loop.
Under load a turn serves hundreds of requests and lasts 50-500 ms, so connections opened in a
burst wait in the kernel's backlog for seconds: with 1,000 keep-alive connections opened at
once on two workers, a few hundred were accepted only after 5-8 s (their first request's
latency was the whole p99 of the bench's ``manifest-get-1000`` case), while the accepted ones
were served every ~150 ms. :class:`BatchAcceptor` reads the listening socket itself and
accepts up to :data:`ACCEPT_BATCH` connections per turn, each handed to the event loop as an
accepted socket (``loop.connect_accepted_socket``: the same transports, protocol and TLS as
uvloop's server). :class:`BerthServer` is uvicorn's server using it for the sockets it is given,
which also freezes the start-up heap once the application has started (:mod:`berth.heap`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

import uvicorn

from berth.heap import freeze_startup_heap

log = logging.getLogger("berth")

ACCEPT_BATCH = 256  # per turn of the loop: the backlog drains fast, one turn stays bounded
PAUSE_SECONDS = 0.1  # out of files or memory: accepting again at once would only spin
_GONE = {errno.ECONNABORTED, errno.EPROTO}  # that one connection went away: take the next
_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class BatchAcceptor:
    """Accepts connections from ``sock`` (a listening socket) while the loop runs; ``close`` stops."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._ssl = ssl_context
        self._loop = asyncio.get_running_loop()
        self._open = True
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept_batch)

    def _accept_batch(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _GONE:
                    continue
                if exc.errno in _EXHAUSTED:
                    log.warning("could not accept connections for %g s: %s", PAUSE_SECONDS, exc)
                    self._loop.remove_reader(self._sock.fileno())
                    self._loop.call_later(PAUSE_SECONDS, self._resume)
                    return
                raise
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(
                self._loop.connect_accepted_socket(self._protocol_factory, conn, ssl=self._ssl)
            )
            task.add_done_callback(_connection_set_up)

    def _resume(self) -> None:
        if self._open:
            self._loop.add_reader(self._sock.fileno(), self._accept_batch)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """Nothing to wait for: the accepted connections belong to uvicorn's server state."""


def _connection_set_up(task: asyncio.Task[object]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:  # a TLS handshake that failed, or a client gone before it was set up
        log.debug("a connection ended before it was set up: %r", exc)


class BerthServer(uvicorn.Server):
    """uvicorn's server; the listening sockets it is given are read by a :class:`BatchAcceptor`."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is None:
            await super().startup(None)
            if self.started:
                freeze_startup_heap()
            return
        await super().startup([])  # the lifespan, and uvicorn's state; no listener of its own
        if not self.started:
            return
        freeze_startup_heap()
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        acceptors = [BatchAcceptor(sock, create_protocol, config.ssl) for sock in sockets]
        self.servers = acceptors  # type: ignore[assignment]  # closed (stop accepting) on shutdown
