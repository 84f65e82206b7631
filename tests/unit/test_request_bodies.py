"""berth.request_bodies: request bodies through a real uvicorn server on a socket.

The server runs berth's protocol class (``protocol_for``: the connection guard and the queued
bodies) in a thread of its own; the clients are raw sockets, so every case is the bytes on
the wire: sizes, chunked encoding in tiny pieces, ``Expect: 100-continue``, two requests on
one connection, a client gone mid-body, and the bound on what one request holds in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from berth.config import Settings
from berth.connections import ConnectionLimits, protocol_for
from berth.request_bodies import QUEUED_BODY_BYTES, GatheredBodyCycle
from tests.support.threaded_server import answer_lifespan, serve_in_thread

MIB = 1024 * 1024
# The event loop reads at most this much from a socket at once (uvloop: 256 KiB), so a paused
# request may hold one such read beyond the limit.
ONE_READ = 256 * 1024


@dataclass
class Observed:
    """What the application and the protocol saw, for the assertions."""

    disconnects: int = 0
    errors: list[BaseException] = field(default_factory=list)
    most_queued: int = 0
    hold: dict[str, threading.Event] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event)


OBSERVED = Observed()


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Answers with the body's SHA-256, its size, the number of messages and whether the last
    one ended the body; ``/hold/<name>`` waits for the test's event before reading."""
    if scope["type"] == "lifespan":
        await answer_lifespan(receive, send)
        return
    try:
        path: str = scope["path"]
        if path.startswith("/hold/"):
            event = OBSERVED.hold[path.removeprefix("/hold/")]
            await asyncio.get_running_loop().run_in_executor(None, event.wait)
        hasher, size, messages, ended = hashlib.sha256(), 0, 0, False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                OBSERVED.disconnects += 1
                return
            messages += 1
            hasher.update(message["body"])
            size += len(message["body"])
            if not message.get("more_body", False):
                ended = True
                break
        body = json.dumps(
            {"sha256": hasher.hexdigest(), "size": size, "messages": messages, "ended": ended}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except BaseException as exc:  # pragma: no cover - reported by the assertions
        OBSERVED.errors.append(exc)
        raise
    finally:
        OBSERVED.finished.set()


def recording_protocol() -> type:
    base = protocol_for(ConnectionLimits.from_settings(Settings()))

    class Recording(base):  # type: ignore[misc, valid-type]
        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            cycle = self.cycle
            if isinstance(cycle, GatheredBodyCycle):
                OBSERVED.most_queued = max(OBSERVED.most_queued, cycle.queued)

    return Recording


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    yield from serve_in_thread(app, recording_protocol())
    assert not OBSERVED.errors


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=60)


def read_response(conn: socket.socket) -> tuple[str, dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
    while len(rest) < length:
        rest += conn.recv(65536)
    return lines[0], json.loads(rest[:length])


def put(conn: socket.socket, body: bytes, path: str = "/") -> dict[str, Any]:
    conn.sendall(f"PUT {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body)
    status, answer = read_response(conn)
    assert status == "HTTP/1.1 200 OK"
    return answer


@pytest.mark.parametrize("size", [0, 1, 65_535, MIB + 3, 5 * MIB + 17])
def test_bodies_of_every_size_arrive_whole_and_end_once(server: tuple[str, int], size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    with connect(server) as conn:
        answer = put(conn, body)

    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert answer["size"] == size
    assert answer["ended"]


def test_a_chunked_body_in_thousands_of_tiny_pieces_arrives_whole(server: tuple[str, int]) -> None:
    pieces = [f"piece {i:05d};".encode() for i in range(3000)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"

    with connect(server) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        for start in range(0, len(encoded), 7):  # many small TCP writes
            conn.sendall(encoded[start : start + 7])
        status, answer = read_response(conn)

    assert status == "HTTP/1.1 200 OK"
    assert answer["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert answer["ended"]


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: tuple[str, int]) -> None:
    body = b"b" * (3 * MIB)
    with connect(server) as conn:
        head = f"PUT / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode())
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += conn.recv(1024)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        conn.sendall(body)
        status, answer = read_response(conn)

    assert status == "HTTP/1.1 200 OK"
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()


def test_requests_one_after_another_on_a_kept_alive_connection_keep_their_own_bodies(
    server: tuple[str, int],
) -> None:
    bodies = [b"first" * 300_000, b"", b"third" * 7]

    with connect(server) as conn:
        answers = [put(conn, body) for body in bodies]

    assert [a["sha256"] for a in answers] == [hashlib.sha256(b).hexdigest() for b in bodies]


def test_a_request_that_is_not_read_yet_holds_at_most_the_limit_and_one_read(
    server: tuple[str, int],
) -> None:
    body = b"m" * (16 * MIB)
    OBSERVED.hold["memory"] = release = threading.Event()
    OBSERVED.most_queued = 0

    with connect(server) as conn:
        head = f"PUT /hold/memory HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        sender = threading.Thread(target=conn.sendall, args=(head + body,))
        sender.start()
        # The application does not read until released: the server must stop reading the
        # socket, so the sender blocks with most of the body still on its side.
        sender.join(1.0)
        assert sender.is_alive()
        release.set()
        status, answer = read_response(conn)
        sender.join()

    assert status == "HTTP/1.1 200 OK"
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert 0 < OBSERVED.most_queued <= QUEUED_BODY_BYTES + ONE_READ


def test_a_client_gone_mid_body_reaches_the_application_as_a_disconnect(server: tuple[str, int]) -> None:
    OBSERVED.finished.clear()
    before = OBSERVED.disconnects

    with connect(server) as conn:
        conn.sendall(b"PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 10000000\r\n\r\n" + b"z" * 3 * MIB)
    assert OBSERVED.finished.wait(30)

    assert OBSERVED.disconnects == before + 1
    assert not OBSERVED.errors
