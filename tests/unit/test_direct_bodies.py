"""berth.direct_bodies: request bodies read from the socket by a worker thread, on a real server.

The server runs berth's protocol class (``protocol_for``) in a thread of its own, as in
``test_request_bodies``; the application uses the ``berth.request.direct`` extension the way the
upload path does (``take()`` on the loop, ``readinto()`` in a worker thread, ``release()`` in a
``finally``). The clients are raw sockets, so every case is the bytes on the wire: whole bodies,
pipelined and kept-alive requests after one, ``Expect: 100-continue``, a body begun with the
headers, an application that stops early (the rest is skipped), a client gone mid-body, and the
requests that are not offered the extension.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
import pytest

from berth.config import Settings
from berth.connections import ConnectionLimits, protocol_for
from berth.direct_bodies import DIRECT_BODY, BodyInterrupted, DirectBody, bytes_read_directly
from tests.support.threaded_server import answer_lifespan, serve_in_thread

MIB = 1024 * 1024
# More than the parser may queue before reading pauses (1 MiB) plus one read of the socket
# (256 KiB): the rest of such a body is still on the socket when the application takes it.
LARGE = 4 * MIB + 123


@dataclass
class Observed:
    """What the application saw, for the assertions."""

    errors: list[BaseException] = field(default_factory=list)
    interrupted: list[BodyInterrupted] = field(default_factory=list)
    taken: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


OBSERVED = Observed()


def read_rest(body: DirectBody, wanted: int, hasher: Any) -> int:
    """In a worker thread: up to ``wanted`` more bytes of ``body`` into ``hasher``, as the upload
    path reads them (one reused buffer, ``readinto`` until it returns 0)."""
    buffer = memoryview(bytearray(MIB))
    read = 0
    while read < wanted and (count := body.readinto(buffer[: min(MIB, wanted - read)])):
        hasher.update(buffer[:count])
        read += count
    return read


async def respond(send: Any, status: int, answer: dict[str, Any]) -> None:
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def drain(receive: Any, hasher: Any = None) -> tuple[str, int]:
    """The rest of the body the usual way, into ``hasher``: the SHA-256 and the rest's size."""
    hasher, size = hasher or hashlib.sha256(), 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        hasher.update(message["body"])
        size += len(message["body"])
        if not message.get("more_body", False):
            break
    return hasher.hexdigest(), size


async def direct(scope: Any, receive: Any, send: Any) -> None:
    """``/direct``: the body taken and read by a thread; ``?stop=N`` answers 507 once N bytes
    are in (a full disk); ``?receive=1`` calls ``receive()`` once before trying to take it."""
    query = {name: values[0] for name, values in parse_qs(scope["query_string"].decode()).items()}
    offered = scope.get("extensions", {}).get(DIRECT_BODY)
    if offered is None:
        sha256, size = await drain(receive)
        await respond(send, 200, {"offered": False, "sha256": sha256, "size": size})
        return
    body: DirectBody = offered["body"]
    hasher, size = hashlib.sha256(), 0
    if "receive" in query:
        first = await receive()
        hasher.update(first["body"])
        size += len(first["body"])
    pieces = body.take()
    if pieces is None:
        whole_sha256, rest_size = await drain(receive, hasher)
        answer = {"offered": True, "taken": False, "sha256": whole_sha256, "size": size + rest_size}
        await respond(send, 200, answer | {"first": size})
        return
    OBSERVED.taken.set()
    stop = int(query.get("stop", body.length))
    for piece in pieces:
        hasher.update(piece)
    in_pieces = sum(len(piece) for piece in pieces)
    try:
        read = await anyio.to_thread.run_sync(read_rest, body, max(stop - in_pieces, 0), hasher)
    except BodyInterrupted as exc:
        OBSERVED.interrupted.append(exc)
        return  # as the registry does: no answer to a client that left
    finally:
        body.release()
    answer = {
        "offered": True,
        "taken": True,
        "sha256": hasher.hexdigest(),
        "size": in_pieces + read,
        "in_pieces": in_pieces,
        "read_directly": read,
        "bytes_read": body.bytes_read,
        "logged": bytes_read_directly(scope),
    }
    await respond(send, 507 if "stop" in query else 200, answer)


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await answer_lifespan(receive, send)
        return
    try:
        await direct(scope, receive, send)
    except BaseException as exc:  # pragma: no cover - reported by the assertions
        OBSERVED.errors.append(exc)
        raise
    finally:
        OBSERVED.finished.set()


def serve(**options: Any) -> Iterator[tuple[str, int]]:
    protocol = protocol_for(ConnectionLimits.from_settings(Settings()))
    yield from serve_in_thread(app, protocol, **options)
    assert not OBSERVED.errors


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    yield from serve()


@pytest.fixture(scope="module")
def short_keep_alive_server() -> Iterator[tuple[str, int]]:
    """A server that closes a connection kept alive for a second without a new request."""
    yield from serve(timeout_keep_alive=1)


class Client:
    """A raw connection that reads answers one at a time (several may come in one read)."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=60)
        self.buffered = b""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self, what: str) -> None:
        received = self.sock.recv(65536)
        assert received, f"the connection was closed {what}, after {self.buffered[:200]!r}"
        self.buffered += received

    def read_response(self) -> tuple[str, dict[str, Any]]:
        while b"\r\n\r\n" not in self.buffered:
            self._more("before an answer")
        top, _, self.buffered = self.buffered.partition(b"\r\n\r\n")
        lines = top.decode().split("\r\n")
        length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
        while len(self.buffered) < length:
            self._more("mid-answer")
        body, self.buffered = self.buffered[:length], self.buffered[length:]
        return lines[0], json.loads(body)


def connect(address: tuple[str, int]) -> Client:
    return Client(address)


def head(method: str, path: str, length: int | None, *extra: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: x", *extra]
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def put(conn: Client, body: bytes, path: str = "/direct") -> dict[str, Any]:
    conn.sendall(head("PUT", path, len(body)) + body)
    status, answer = conn.read_response()
    assert status == "HTTP/1.1 200 OK"
    assert conn.buffered == b"", "more than one answer"
    return answer


def pattern(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that differ from one MiB to the next, so a lost or repeated piece shows."""
    blocks = [hashlib.sha256(b"%d/%d" % (seed, i)).digest() * (MIB // 32) for i in range(size // MIB + 1)]
    return b"".join(blocks)[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_large_body_is_read_whole_by_the_thread_and_the_connection_serves_the_next_request(
    server: tuple[str, int],
) -> None:
    body = pattern(6 * MIB + 5)
    second = pattern(MIB + 1, seed=1)

    with connect(server) as conn:
        answer = put(conn, body)
        after = put(conn, second)  # the fresh parser on the same connection

    assert answer["taken"]
    assert answer["sha256"] == sha256(body)
    assert answer["size"] == len(body)
    assert answer["read_directly"] > 0  # the rest came from the socket, not the parser
    assert answer["bytes_read"] == len(body)
    assert answer["logged"] == len(body)
    assert after["taken"]
    assert after["sha256"] == sha256(second)
    assert after["bytes_read"] == len(second)


def test_a_request_pipelined_behind_a_direct_body_is_answered_after_it(server: tuple[str, int]) -> None:
    body = pattern(LARGE, seed=2)
    small = b"tail of the pipeline"

    with connect(server) as conn:
        conn.sendall(head("PUT", "/direct", len(body)) + body + head("PUT", "/direct", len(small)) + small)
        first_status, first = conn.read_response()
        second_status, second = conn.read_response()

    assert first_status == second_status == "HTTP/1.1 200 OK"
    assert first["sha256"] == sha256(body)
    assert first["read_directly"] > 0
    assert second["sha256"] == sha256(small)
    assert second["size"] == len(small)


def test_a_get_pipelined_behind_a_direct_body_is_answered_after_it(server: tuple[str, int]) -> None:
    body = pattern(LARGE, seed=3)

    with connect(server) as conn:
        conn.sendall(head("PUT", "/direct", len(body)) + body + head("GET", "/direct", None))
        first_status, first = conn.read_response()
        second_status, second = conn.read_response()

    assert first_status == second_status == "HTTP/1.1 200 OK"
    assert first["sha256"] == sha256(body)
    assert second == {"offered": False, "sha256": sha256(b""), "size": 0}


def test_expect_100_continue_is_answered_when_the_body_is_taken(server: tuple[str, int]) -> None:
    body = pattern(3 * MIB + 7, seed=4)

    with connect(server) as conn:
        conn.sendall(head("PUT", "/direct", len(body), "expect: 100-continue"))
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += conn.sock.recv(1024)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        conn.sendall(body)
        status, answer = conn.read_response()

    assert status == "HTTP/1.1 200 OK"
    assert answer["in_pieces"] == 0
    assert answer["read_directly"] == len(body)
    assert answer["sha256"] == sha256(body)


def test_the_pieces_that_came_with_the_headers_and_the_socket_make_the_exact_body(
    server: tuple[str, int],
) -> None:
    body = pattern(2 * MIB + 3, seed=5)
    early = 1000
    OBSERVED.taken.clear()

    with connect(server) as conn:
        conn.sendall(head("PUT", "/direct", len(body)) + body[:early])
        assert OBSERVED.taken.wait(30)  # the rest is sent only once the body was taken
        conn.sendall(body[early:])
        status, answer = conn.read_response()

    assert status == "HTTP/1.1 200 OK"
    assert answer["in_pieces"] == early
    assert answer["read_directly"] == len(body) - early
    assert answer["sha256"] == sha256(body)
    assert answer["bytes_read"] == len(body)


def test_a_body_that_arrived_whole_before_it_was_taken_is_all_in_the_pieces(server: tuple[str, int]) -> None:
    body = pattern(30_000, seed=6)  # one segment on the loopback: parsed with the headers

    with connect(server) as conn:
        answer = put(conn, body)
        after = put(conn, b"next")

    assert answer["in_pieces"] == len(body)
    assert answer["read_directly"] == 0
    assert answer["sha256"] == sha256(body)
    assert answer["bytes_read"] == answer["logged"] == len(body)
    assert after["sha256"] == sha256(b"next")


def test_the_rest_of_a_body_the_application_stopped_reading_is_skipped(server: tuple[str, int]) -> None:
    body = pattern(8 * MIB, seed=7)
    following = pattern(MIB + 9, seed=8)

    with connect(server) as conn:
        conn.sendall(head("PUT", f"/direct?stop={MIB}", len(body)) + body)  # the whole body
        status, answer = conn.read_response()
        after = put(conn, following)

    assert status == "HTTP/1.1 507 Insufficient Storage"
    assert MIB <= answer["size"] < len(body)
    assert answer["sha256"] == sha256(body[: answer["size"]])
    assert answer["bytes_read"] == answer["logged"] == answer["size"]
    assert after["sha256"] == sha256(following)
    assert after["bytes_read"] == len(following)


def test_a_request_pipelined_behind_a_skipped_body_is_answered(server: tuple[str, int]) -> None:
    body = pattern(5 * MIB, seed=9)
    small = b"after the skipped body"

    with connect(server) as conn:
        conn.sendall(
            head("PUT", f"/direct?stop={MIB}", len(body)) + body + head("PUT", "/direct", len(small)) + small
        )
        first_status, _ = conn.read_response()
        second_status, second = conn.read_response()

    assert first_status == "HTTP/1.1 507 Insufficient Storage"
    assert second_status == "HTTP/1.1 200 OK"
    assert second["sha256"] == sha256(small)


def test_a_client_that_keeps_sending_a_skipped_body_is_not_cut_off_by_the_keep_alive_timeout(
    short_keep_alive_server: tuple[str, int],
) -> None:
    # The answer comes before the client has sent the body; sending the rest takes longer than
    # the keep-alive timeout (1 s here), which must not close a connection that is receiving.
    body = pattern(3 * MIB, seed=10)
    sent = 2 * MIB

    with connect(short_keep_alive_server) as conn:
        conn.sendall(head("PUT", f"/direct?stop={MIB}", len(body)) + body[:sent])
        status, _ = conn.read_response()
        pause = threading.Event()
        for start in range(sent, len(body), 64 * 1024):  # 16 pieces over ~1.6 s
            pause.wait(0.1)
            conn.sendall(body[start : start + 64 * 1024])
        after = put(conn, b"still open")

    assert status == "HTTP/1.1 507 Insufficient Storage"
    assert after["sha256"] == sha256(b"still open")


def test_a_client_gone_mid_body_interrupts_the_thread_and_closes_the_connection(
    server: tuple[str, int],
) -> None:
    body = pattern(LARGE, seed=11)
    OBSERVED.taken.clear()
    OBSERVED.finished.clear()
    before = len(OBSERVED.interrupted)

    with connect(server) as conn:
        conn.sendall(head("PUT", "/direct", len(body)) + body[: 2 * MIB])
        assert OBSERVED.taken.wait(30)
        conn.sendall(body[2 * MIB : 3 * MIB])
        conn.sock.shutdown(socket.SHUT_WR)  # the client is done sending, a MiB short
        left = b"".join(iter(lambda: conn.sock.recv(65536), b""))
    assert OBSERVED.finished.wait(30)

    assert left == b""  # closed, and nothing written: no answer, no 500
    assert len(OBSERVED.interrupted) == before + 1
    with connect(server) as conn:  # the server still serves
        assert put(conn, b"another connection")["sha256"] == sha256(b"another connection")


@pytest.mark.parametrize(
    "request_bytes",
    [
        head("POST", "/direct", None, "transfer-encoding: chunked") + b"5\r\nhello\r\n0\r\n\r\n",
        head("PUT", "/direct", 0),
        head("GET", "/direct", None),
    ],
    ids=["chunked", "content-length-0", "no-body"],
)
def test_a_body_without_a_length_or_without_bytes_is_not_offered(
    server: tuple[str, int], request_bytes: bytes
) -> None:
    with connect(server) as conn:
        conn.sendall(request_bytes)
        status, answer = conn.read_response()

    assert status == "HTTP/1.1 200 OK"
    assert answer["offered"] is False


def test_a_body_the_application_began_to_receive_cannot_be_taken(server: tuple[str, int]) -> None:
    body = pattern(LARGE, seed=12)

    with connect(server) as conn:
        answer = put(conn, body, "/direct?receive=1")
        after = put(conn, b"next")

    assert answer["offered"]
    assert not answer["taken"]
    assert answer["first"] > 0
    assert answer["sha256"] == sha256(body)
    assert answer["size"] == len(body)
    assert after["sha256"] == sha256(b"next")


def test_what_was_read_directly_is_counted_for_the_request_log() -> None:
    assert bytes_read_directly({"type": "http"}) == 0
    assert bytes_read_directly({"type": "http", "extensions": {}}) == 0
