"""Finding 11 of issue 8: header size, header time, idle keep-alive and connection count are
limited, so slow, silent or oversized connections cannot take the service from others.

Every test drives a real ``berth serve`` over loopback sockets with short limits
(``--header-timeout-seconds 2 --keep-alive-seconds 2``). Loops are bounded: a test that waits
for the server to close a connection gives up (and fails) after :data:`PATIENCE` seconds.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import BerthServer

PATIENCE = 30.0  # the most any wait below lasts; the limits under test are 2 s
MIB = 1024 * 1024
LIMIT_ARGS = ("--header-timeout-seconds", "2", "--keep-alive-seconds", "2", "--max-header-bytes", "16384")
REQUEST_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def _server(tmp_path: Path, *extra: str) -> BerthServer:
    """A server with short limits; use it as a context manager (starts, then stops it)."""
    return BerthServer(tmp_path / "berth", args=["--insecure-no-auth", *LIMIT_ARGS, *extra])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BerthServer]:
    with _server(tmp_path, "--max-connections", "100") as running:
        yield running


def rss_bytes(server: BerthServer) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    sock.settimeout(PATIENCE)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def read_response(sock: socket.socket) -> bytes:
    """One whole answer (its head, then Content-Length bytes of body): the head and the body may
    arrive in separate segments, and a single recv() would then see only the head."""
    sock.settimeout(PATIENCE)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the end of the head: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
    length = int({name.lower(): value for name, value in fields.items()}[b"content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the end of the body: {received!r}"
        body += chunk
    assert len(body) == length, body  # nothing beyond the answer
    return head + b"\r\n\r\n" + body


def test_headers_over_the_limit_get_431_and_the_connection_closed(server: BerthServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
        sock.sendall(REQUEST_HEAD + b"X-Padding: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = read_until_closed(sock)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b'"code":"HEADERS_TOO_LARGE"' in body
    assert b"16384 bytes" in body


def test_a_64_mib_header_is_not_read_into_memory(server: BerthServer) -> None:
    before = rss_bytes(server)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
        sock.sendall(REQUEST_HEAD + b"X-Huge: ")
        chunk = b"a" * 65536
        try:
            while sent < 64 * MIB:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection at the limit
        answer = read_until_closed(sock)

    assert sent < 16 * MIB, "the server kept reading a header far over its limit"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert rss_bytes(server) - before < 16 * MIB
    assert httpx.get(f"{server.url}/healthz", timeout=PATIENCE).status_code == 200


def test_an_incomplete_request_gets_408_after_the_header_timeout(server: BerthServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
        sock.sendall(REQUEST_HEAD)  # no blank line: the headers never end
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"REQUEST_TIMEOUT"' in answer


def test_a_silent_connection_and_an_idle_kept_alive_one_are_closed(server: BerthServer) -> None:
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as silent,
        socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as kept,
    ):
        kept.sendall(REQUEST_HEAD + b"\r\n")
        first = read_response(kept)
        assert first.startswith(b"HTTP/1.1 200 ")

        assert read_until_closed(silent) == b""
        assert read_until_closed(kept) == b""


async def _slow_loris(port: int, rounds: int) -> bool:
    """One attacker: a request line, then a header line every half second. True when the
    server closed the connection within ``rounds`` lines."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True  # refused or reset at once: the service defended itself
    try:
        writer.write(REQUEST_HEAD)
        for _ in range(rounds):
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(65536), 0.5) == b"":
                    return True
            except TimeoutError:
                writer.write(b"X-Slow: 1\r\n")
                continue
            return True  # an answer (408) before the close
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        writer.close()


async def _attack_while_serving(port: int, attackers: int) -> tuple[list[bool], list[int]]:
    rounds = int(PATIENCE / 0.5)
    attack = [asyncio.create_task(_slow_loris(port, rounds)) for _ in range(attackers)]
    await asyncio.sleep(1.0)  # every attacker is connected and trickling
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as client:
        for _ in range(5):
            statuses.append((await client.get("/healthz")).status_code)
            statuses.append((await client.get("/v2/")).status_code)
            await asyncio.sleep(0.2)
    return list(await asyncio.gather(*attack)), statuses


def test_a_slow_loris_of_300_connections_does_not_keep_others_out(server: BerthServer) -> None:
    before = rss_bytes(server)

    closed, statuses = asyncio.run(_attack_while_serving(server.port, 300))

    assert statuses == [200] * 10
    assert all(closed), f"{closed.count(False)} slow connections were never closed"
    assert rss_bytes(server) - before < 32 * MIB
    # The attack is reported in a line or two, not a line per connection.
    reports = [line for line in server.log().splitlines() if "berth.connections:" in line]
    assert 1 <= len(reports) <= 3, reports


def test_300_silent_connections_are_closed_and_others_served(tmp_path: Path) -> None:
    async def scenario(port: int) -> tuple[list[bytes], int]:
        opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(300)]
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            status = (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code
        reads = asyncio.gather(*(reader.read() for reader, _ in opened))
        received = list(await asyncio.wait_for(reads, PATIENCE))
        for _, writer in opened:
            writer.close()
        return received, status

    with _server(tmp_path, "--max-connections", "1000") as server:
        received, status = asyncio.run(scenario(server.port))

    assert status == 200
    assert received == [b""] * 300  # closed by the server, without an answer


def test_at_the_connection_limit_busy_connections_are_kept_and_newcomers_get_503(tmp_path: Path) -> None:
    # A request whose body is still arriving is busy: it is never closed to make room.
    busy_request = b"PUT /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\npartial"
    with _server(tmp_path, "--max-connections", "3") as server:
        busy = [socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) for _ in range(3)]
        try:
            for sock in busy:
                sock.sendall(busy_request)
                assert sock.recv(65536).startswith(b"HTTP/1.1 405 ")
            with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as newcomer:
                answer = read_until_closed(newcomer)  # answered on arrival, before any request
        finally:
            for sock in busy:
                sock.close()

    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"retry-after: 1" in answer.lower()
    assert b'"code":"UNAVAILABLE"' in answer
