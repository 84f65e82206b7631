"""A blocking HTTP/1.1 client built to stay out of the way of the servers it measures.

Request bodies leave with ``sendfile`` straight from the page cache (no copy through Python);
response bodies land with ``recv_into`` in a preallocated buffer, and are hashed only after the
clock stops (:class:`BufferSink`) or on the way in (:class:`HashingSink`, for blobs too large
to hold). The same functions measure the client's own ceiling against :mod:`bench.sink`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from bench.payload import Payload

OCTET_STREAM = "application/octet-stream"
_READ_BLOCK = 4 * 1024 * 1024
_PAGE = 4096


class UnexpectedResponse(RuntimeError):
    pass


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Sink(Protocol):
    def receive(self, response: http.client.HTTPResponse, length: int) -> None: ...

    def digest(self) -> str: ...


class BufferSink:
    """Receives a whole body into one preallocated buffer; hashes it when asked, untimed."""

    def __init__(self, capacity: int) -> None:
        self._buffer = bytearray(capacity)
        self._buffer[::_PAGE] = bytes(len(range(0, capacity, _PAGE)))  # fault the pages in, untimed
        self._length = 0

    def receive(self, response: http.client.HTTPResponse, length: int) -> None:
        if length > len(self._buffer):
            raise ValueError(f"body of {length} bytes exceeds the {len(self._buffer)}-byte buffer")
        view = memoryview(self._buffer)
        position = 0
        while position < length:
            read = response.readinto(view[position:length])
            if not read:
                raise UnexpectedResponse(f"body ended after {position} of {length} bytes")
            position += read
        self._length = length

    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(memoryview(self._buffer)[: self._length]).hexdigest()


class HashingSink:
    """Hashes a body block by block as it arrives (constant client memory)."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()

    def receive(self, response: http.client.HTTPResponse, length: int) -> None:
        buffer = bytearray(_READ_BLOCK)
        view = memoryview(buffer)
        remaining = length
        while remaining:
            read = response.readinto(view[: min(_READ_BLOCK, remaining)])
            if not read:
                raise UnexpectedResponse(f"body ended with {remaining} bytes missing")
            self._hasher.update(view[:read])
            remaining -= read

    def digest(self) -> str:
        return "sha256:" + self._hasher.hexdigest()


class Client:
    """One keep-alive connection to ``host:port``."""

    def __init__(
        self, host: str, port: int, timeout: float = 600.0, headers: Mapping[str, str] | None = None
    ) -> None:
        self._conn = http.client.HTTPConnection(host, port, timeout=timeout, blocksize=1024 * 1024)
        self._headers = dict(headers or {})  # sent with every request (e.g. Authorization)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self, method: str, target: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Reply:
        # http.client adds Content-Length (0 for an empty POST, PUT or PATCH).
        self._conn.request(method, target, body=body or None, headers={**self._headers, **(headers or {})})
        response = self._conn.getresponse()
        return Reply(response.status, response.headers, response.read())

    def send_payload(
        self,
        method: str,
        target: str,
        payload: Payload,
        start: int = 0,
        count: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send bytes ``start`` .. ``start + count`` of ``payload`` as the body, via sendfile."""
        count = payload.size - start if count is None else count
        conn = self._conn
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(count))
        conn.putheader("Content-Type", OCTET_STREAM)
        for name, value in {**self._headers, **(headers or {})}.items():
            conn.putheader(name, value)
        conn.endheaders()
        assert conn.sock is not None
        with open(payload.path, "rb") as handle:
            for piece in payload.pieces(start, count):
                if isinstance(piece, bytes):
                    conn.sock.sendall(piece)
                else:
                    conn.sock.sendfile(handle, *piece)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())

    def receive(
        self, target: str, sink: Sink, headers: Mapping[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage]:
        """GET ``target`` into ``sink``; returns the body length and the response headers."""
        self._conn.request("GET", target, headers=dict(headers or {}))
        response = self._conn.getresponse()
        if response.status != 200:
            raise UnexpectedResponse(f"GET {target}: {response.status} {response.read()[:500]!r}")
        length = int(response.headers["Content-Length"])
        sink.receive(response, length)
        if response.read():
            raise UnexpectedResponse(f"GET {target}: more bytes than Content-Length")
        return length, response.headers


def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise UnexpectedResponse(f"{what}: expected {status}, got {reply.status}: {reply.body[:500]!r}")
    return reply


def location(reply: Reply) -> str:
    """The Location header as a request target (path and query), absolute or not."""
    value = reply.headers.get("Location")
    if not value:
        raise UnexpectedResponse(f"no Location header (status {reply.status})")
    parts = urlsplit(value)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_query(target: str, name: str, value: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}{name}={value}"


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def json_body(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
