"""The request log and connection log of a real ``berth serve --log-format json``.

One JSON object a line on stderr: every request with its correlation id, and bytes that are not
HTTP (here a TLS handshake sent to the plain-HTTP port, as a client set up for HTTPS sends it)
logged once per connection with the client's address, in place of uvicorn's bare line.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

# The start of a TLS 1.2 ClientHello record: content type 22 (handshake), version 3.1.
CLIENT_HELLO = bytes.fromhex("160301006e0100006a0303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthServer]:
    data_dir = tmp_path_factory.mktemp("request-log") / "berth"
    # A set bootstrap password: a generated one is shown on the terminal in a banner, not logged.
    env = {"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd"}
    with BerthServer(data_dir, args=["--insecure-no-auth", "--log-format", "json"], env=env) as server:
        yield server


def records(server: BerthServer) -> list[dict[str, Any]]:
    """Every line berth wrote (the harness marks each start with a line beginning with ---)."""
    return [
        json.loads(line) for line in server.log().splitlines() if line.strip() and not line.startswith("--- ")
    ]


def wait_for(server: BerthServer, found: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The log's records once one of them satisfies ``found`` (the server writes asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        current = records(server)
        if any(found(r) for r in current) or time.monotonic() > deadline:
            return current
        time.sleep(0.05)


def send_raw(server: BerthServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        return answer


def test_every_line_is_json_and_a_request_carries_its_correlation_id(server: BerthServer) -> None:
    response = httpx.get(f"{server.url}/v2/_catalog", params={"n": "5"}, headers={"User-Agent": "log-test"})
    correlation_id = response.headers["X-Ms-Correlation-Request-Id"]

    logged = wait_for(server, lambda r: r.get("correlation_id") == correlation_id)
    [line] = [r for r in logged if r.get("correlation_id") == correlation_id]
    assert line["logger"] == "berth.request"
    assert line["level"] == "info"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v2/_catalog", 200)
    assert line["client"] == "127.0.0.1"
    assert line["registry"] == "default"
    assert line["user_agent"] == "log-test"
    assert line["bytes_out"] == len(response.content)
    assert line["time"].endswith("+00:00")
    assert any(r["logger"] == "berth" and "berth serving on" in r["message"] for r in logged)


def test_a_tls_handshake_on_the_http_port_is_named_once_with_the_client(server: BerthServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        client_port = sock.getsockname()[1]
        sock.sendall(CLIENT_HELLO)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400")
    address = f"127.0.0.1:{client_port}"
    logged = wait_for(server, lambda r: address in r["message"])
    mentions = [r for r in logged if address in r["message"]]
    assert len(mentions) == 1
    assert mentions[0]["logger"] == "berth.connection"
    assert mentions[0]["level"] == "warning"
    assert "TLS handshake" in mentions[0]["message"]
    assert "expects HTTPS" in mentions[0]["message"]
    assert not any(r["message"] == "Invalid HTTP request received." for r in logged)


def test_other_garbage_is_named_too(server: BerthServer) -> None:
    assert send_raw(server, b"\x00\x01garbage\r\n\r\n").startswith(b"HTTP/1.1 400")

    logged = wait_for(server, lambda r: "not HTTP/1.1" in r["message"])
    assert any("127.0.0.1:" in r["message"] and "not HTTP/1.1" in r["message"] for r in logged)


def push_blob(server: BerthServer, repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    session = httpx.post(f"{server.url}/v2/{repository}/blobs/uploads/")
    assert session.status_code == 202
    stored = httpx.put(f"{server.url}{session.headers['Location']}", params={"digest": digest}, content=data)
    assert stored.status_code == 201
    return digest


def test_blob_pulls_sent_from_the_file_are_logged_with_their_status_and_bytes(server: BerthServer) -> None:
    # Large enough to be sent with sendfile (blobs up to 1 MiB are read and verified instead)
    # and to outlast the socket buffers, so that the client below leaves in the middle.
    data = os.urandom(24 * 1024 * 1024)
    digest = push_blob(server, "logged/pulls", data)
    url = f"{server.url}/v2/logged/pulls/blobs/{digest}"

    with httpx.Client() as client:  # one kept-alive connection: a whole blob, then a range
        whole = client.get(url, headers={"User-Agent": "pull-whole"})
        ranged = client.get(url, headers={"User-Agent": "pull-range", "Range": "bytes=1000-2999999"})
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        request = f"GET /v2/logged/pulls/blobs/{digest} HTTP/1.1\r\nHost: {server.address}\r\n"
        sock.sendall(f"{request}User-Agent: pull-left\r\n\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")

    assert whole.status_code == 200
    assert whole.content == data
    assert ranged.status_code == 206
    assert ranged.content == data[1000:3000000]
    logged = wait_for(server, lambda r: r.get("user_agent") == "pull-left")
    by_agent = {r.get("user_agent"): r for r in logged if r.get("logger") == "berth.request"}
    assert (by_agent["pull-whole"]["status"], by_agent["pull-whole"]["bytes_out"]) == (200, len(data))
    assert (by_agent["pull-range"]["status"], by_agent["pull-range"]["bytes_out"]) == (206, 2999000)
    assert by_agent["pull-left"]["status"] == 499
    assert 0 < by_agent["pull-left"]["bytes_out"] < len(data)
    assert not [r for r in logged if r["level"] in ("error", "critical")]
