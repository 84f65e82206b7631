"""berth.sendfile: zero-copy bodies through a real uvicorn server (uvloop, berth's protocol class)
on a local socket, read by raw-socket clients: whole files, ranges, keep-alive and pipelined
requests after a zero-copy body, a client that leaves mid-send, and TLS (not offered there).
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs

import pytest
import uvicorn

from berth.config import Settings
from berth.sendfile import ZERO_COPY_SEND, SendInterrupted, in_page_cache
from berth.server import connection_options
from berth.tls import init_folder

SIZE = 24 * 1024 * 1024  # several times a loopback socket's buffer: the sender must wait for room
WAIT = 30.0  # upper bound on waiting for the server thread to report; never a timing assertion


@dataclass
class Outcome:
    """What the application saw for one request: the extension offered, the end of its send."""

    offered: bool
    error: BaseException | None = None
    file: BinaryIO | None = None
    done: threading.Event = field(default_factory=threading.Event)


class FileApp:
    """Serves ``path``: ``GET /?offset=a&count=n`` with zerocopysend when offered, else in blocks;
    ``/chunked`` without a Content-Length."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.outcomes: list[Outcome] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        query = {k: int(v[0]) for k, v in parse_qs(scope["query_string"].decode()).items()}
        offset, count = query.get("offset", 0), query.get("count", SIZE - query.get("offset", 0))
        outcome = Outcome(offered=ZERO_COPY_SEND in scope.get("extensions", {}))
        self.outcomes.append(outcome)
        headers = [(b"content-type", b"application/octet-stream")]
        if scope["path"] != "/chunked":
            headers.append((b"content-length", str(count).encode()))
        try:
            with open(self.path, "rb", buffering=0) as file:
                outcome.file = file
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                if outcome.offered:
                    await send({"type": ZERO_COPY_SEND, "file": file, "offset": offset, "count": count})
                else:
                    file.seek(offset)
                    await send({"type": "http.response.body", "body": file.read(count)})
        except OSError as exc:
            outcome.error = exc
        finally:
            outcome.done.set()


@dataclass
class Served:
    app: FileApp
    port: int
    data: bytes
    tls_ca: Path | None = None


def _serve(app: FileApp, data: bytes, tls: tuple[Path, Path, Path] | None = None) -> Iterator[Served]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        loop="uvloop",
        lifespan="on",
        log_config=None,
        access_log=False,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        **connection_options(Settings()),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.01)
            assert thread.is_alive(), "the server thread ended"
        yield Served(app, sock.getsockname()[1], data, tls[2] if tls else None)
    finally:
        server.should_exit = True
        thread.join(WAIT)
        sock.close()


@pytest.fixture(scope="module")
def blob(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    path = tmp_path_factory.mktemp("sendfile") / "blob"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, data


@pytest.fixture(scope="module")
def served(blob: tuple[Path, bytes]) -> Iterator[Served]:
    yield from _serve(FileApp(blob[0]), blob[1])


@pytest.fixture(scope="module")
def served_tls(blob: tuple[Path, bytes], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    files = init_folder(tmp_path_factory.mktemp("tls"), "localhost")
    yield from _serve(FileApp(blob[0]), blob[1], (files.server_cert, files.server_key, files.ca_cert))


def request(path: str = "/", method: str = "GET", close: bool = False) -> bytes:
    extra = "connection: close\r\n" if close else ""
    return f"{method} {path} HTTP/1.1\r\nhost: localhost\r\n{extra}\r\n".encode()


def read_response(reader: BinaryIO, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    status_line = reader.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    if method == "HEAD":
        return status, headers, b""
    if "content-length" in headers:
        return status, headers, reader.read(int(headers["content-length"]))
    body = bytearray()
    while size := int(reader.readline(), 16):
        body += reader.read(size)
        assert reader.read(2) == b"\r\n"
    assert reader.read(2) == b"\r\n"
    return status, headers, bytes(body)


def connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port))
    if served.tls_ca is None:
        return sock
    context = ssl.create_default_context(cafile=str(served.tls_ca))
    return context.wrap_socket(sock, server_hostname="localhost")


def last_outcome(served: Served) -> Outcome:
    outcome = served.app.outcomes[-1]
    assert outcome.done.wait(WAIT)
    return outcome


def test_a_whole_file_is_sent_exactly_and_the_connection_kept_alive(served: Served) -> None:
    with connect(served) as sock, sock.makefile("rb") as reader:
        for _ in range(2):
            sock.sendall(request())
            status, headers, body = read_response(reader)
            assert (status, int(headers["content-length"])) == (200, SIZE)
            assert hashlib.sha256(body).digest() == hashlib.sha256(served.data).digest()
            outcome = last_outcome(served)
            assert outcome.offered
            assert outcome.error is None
            assert outcome.file is not None
            assert outcome.file.closed


def test_a_range_sends_exactly_its_bytes(served: Served) -> None:
    offset, count = 3 * 1024 * 1024 + 7, 5 * 1024 * 1024 + 11
    with connect(served) as sock, sock.makefile("rb") as reader:
        sock.sendall(request(f"/?offset={offset}&count={count}"))
        status, _, body = read_response(reader)
        sock.sendall(request("/?offset=10&count=1"))  # and the next request on the same connection
        assert read_response(reader)[2] == served.data[10:11]
    assert status == 200
    assert body == served.data[offset : offset + count]


def test_pipelined_requests_are_answered_in_order_after_a_zero_copy_body(served: Served) -> None:
    with connect(served) as sock, sock.makefile("rb") as reader:
        sock.sendall(request() + request("/?offset=5&count=100") + request("/chunked?offset=1&count=9"))
        answers = [read_response(reader) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[0][2] == served.data
    assert answers[1][2] == served.data[5:105]
    assert answers[2][1].get("transfer-encoding") == "chunked"
    assert answers[2][2] == served.data[1:10]


def test_head_sends_no_body(served: Served) -> None:
    with connect(served) as sock, sock.makefile("rb") as reader:
        sock.sendall(request(method="HEAD") + request("/?offset=0&count=4"))
        head = read_response(reader, "HEAD")
        after = read_response(reader)
    assert head[0] == 200
    assert head[1]["content-length"] == str(SIZE)
    assert after[2] == served.data[:4]


def test_a_client_leaving_mid_send_ends_the_send_quietly_and_closes_the_file(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with connect(served) as sock:
        sock.sendall(request())
        received = 0
        while received < 1024 * 1024:
            received += len(sock.recv(65536))
    outcome = last_outcome(served)

    assert isinstance(outcome.error, SendInterrupted)
    assert received <= outcome.error.sent < SIZE
    assert outcome.file is not None
    assert outcome.file.closed
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    with connect(served) as sock, sock.makefile("rb") as reader:  # the server goes on serving
        sock.sendall(request("/?offset=1&count=2", close=True))
        assert read_response(reader)[2] == served.data[1:3]


def test_tls_connections_are_not_offered_zero_copy(served_tls: Served) -> None:
    with connect(served_tls) as sock, sock.makefile("rb") as reader:
        sock.sendall(request("/?offset=100&count=1000000"))
        status, _, body = read_response(reader)
    assert status == 200
    assert body == served_tls.data[100:1000100]
    assert not last_outcome(served_tls).offered


def _evict(path: Path) -> None:
    """Drop the file's pages from the page cache (written back first, so they can be dropped)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def test_pages_not_in_the_page_cache_are_told_apart_from_cached_ones() -> None:
    # /var/tmp, not tmp_path: a tmpfs /tmp keeps every page in memory, so nothing could be evicted.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
        path = Path(folder) / "blob"
        path.write_bytes(os.urandom(4 * 1024 * 1024))
        _evict(path)
        fd = os.open(path, os.O_RDONLY)
        try:
            assert not in_page_cache(fd, 0, 2 * 1024 * 1024)
            os.pread(fd, 4 * 1024 * 1024, 0)
            assert in_page_cache(fd, 0, 2 * 1024 * 1024)
        finally:
            os.close(fd)


def test_a_file_not_in_the_page_cache_is_sent_whole(served: Served, blob: tuple[Path, bytes]) -> None:
    _evict(blob[0])
    with connect(served) as sock, sock.makefile("rb") as reader:
        sock.sendall(request())
        status, _, body = read_response(reader)
        assert status == 200
        assert hashlib.sha256(body).digest() == hashlib.sha256(served.data).digest()
        assert last_outcome(served).error is None
