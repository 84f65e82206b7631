"""berth.accepting: a burst of connections waiting in the backlog is accepted in one turn of the
loop (up to ACCEPT_BATCH), not one connection per turn as uvloop's own server does."""

from __future__ import annotations

import asyncio
import errno
import gc
import socket
from typing import Any

import uvicorn
import uvloop

from berth.accepting import ACCEPT_BATCH, PAUSE_SECONDS, BatchAcceptor, BerthServer


class Counting(asyncio.Protocol):
    made: list[asyncio.BaseTransport] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counting.made.append(transport)


def test_a_burst_in_the_backlog_is_accepted_in_batches_of_accept_batch() -> None:
    waiting = ACCEPT_BATCH + 44
    with socket.create_server(("127.0.0.1", 0), backlog=2048) as listener:
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(waiting)]
        Counting.made = []

        async def scenario() -> tuple[int, int]:
            acceptor = BatchAcceptor(listener, Counting, None)
            acceptor._accept_batch()  # one turn's worth, without giving the loop a turn
            first = len(asyncio.all_tasks()) - 1
            acceptor.close()  # the loop no longer reads the socket; the rest by hand
            acceptor._accept_batch()
            second = len(asyncio.all_tasks()) - 1 - first
            while len(asyncio.all_tasks()) > 1:
                await asyncio.sleep(0)
            await acceptor.wait_closed()
            return first, second

        try:
            first, second = uvloop.run(scenario())
        finally:
            for client in clients:
                client.close()
            for transport in Counting.made:
                transport.close()

    assert (first, second) == (ACCEPT_BATCH, waiting - ACCEPT_BATCH)
    assert len(Counting.made) == waiting  # each accepted socket became a connection of the protocol


def test_accepting_stops_at_an_empty_backlog() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:

        async def scenario() -> int:
            acceptor = BatchAcceptor(listener, Counting, None)
            acceptor._accept_batch()  # nothing waits: returns at once
            acceptor.close()
            acceptor.close()  # idempotent
            return len(asyncio.all_tasks()) - 1

        assert uvloop.run(scenario()) == 0


def test_berth_server_accepts_from_the_given_sockets_and_freezes_the_startup_heap() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, lifespan="off", log_config=None, loop="uvloop")
    server = BerthServer(config)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        async def scenario() -> tuple[list[object], bytes]:
            config.load()
            server.lifespan = config.lifespan_class(config)  # as uvicorn's Server._serve does
            await server.startup(sockets=[listener])
            servers: list[object] = list(server.servers)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            await server.shutdown()
            return servers, answer

        try:
            servers, answer = uvloop.run(scenario())
            frozen = gc.get_freeze_count()
        finally:
            gc.unfreeze()
    assert [type(s) for s in servers] == [BatchAcceptor]
    assert answer.startswith(b"HTTP/1.1 204 ")
    assert frozen > 0


class OutOfFiles(socket.socket):
    calls = 0

    def accept(self) -> tuple[socket.socket, Any]:
        OutOfFiles.calls += 1
        raise OSError(errno.EMFILE, "Too many open files")


def test_out_of_files_pauses_accepting_instead_of_spinning() -> None:
    with OutOfFiles(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        waiting = socket.create_connection(listener.getsockname())  # the socket stays readable

        async def scenario() -> None:
            acceptor = BatchAcceptor(listener, Counting, None)
            await asyncio.sleep(PAUSE_SECONDS * 3)
            acceptor.close()

        try:
            uvloop.run(scenario())
        finally:
            waiting.close()

    # A pause after each failure (three pauses' time: a few tries), where a loop that retried at
    # once would have failed thousands of times; and it tried again after the pause.
    assert 2 <= OutOfFiles.calls <= 10
