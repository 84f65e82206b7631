"""The fastest HTTP peer this machine can offer, to measure the benchmark client's own ceiling.

``python bench/sink.py --port P --file F`` speaks just enough of the blob API for the blob
cases to run against it unchanged: ``POST .../blobs/uploads/`` opens a pretend session,
``PATCH`` and ``PUT`` bodies are discarded (``recv_into`` one reused buffer), and
``GET .../blobs/<digest>`` is answered with ``F`` via ``sendfile``. It hashes, parses and
stores nothing, so a client that outruns a registry here is not what limits that registry.
"""

from __future__ import annotations

import argparse
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

_BUFFER = 4 * 1024 * 1024
_SESSION = "/v2/sink/blobs/uploads/session"


def _read_head(conn: socket.socket, pending: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in pending:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    pending[:] = rest
    return head


def _discard(conn: socket.socket, pending: bytearray, length: int) -> None:
    taken = min(len(pending), length)
    del pending[:taken]
    remaining = length - taken
    buffer = bytearray(_BUFFER)
    while remaining:
        read = conn.recv_into(buffer, min(_BUFFER, remaining))
        if not read:
            raise ConnectionError("client went away mid-body")
        remaining -= read


def _serve_file(conn: socket.socket, path: Path) -> None:
    size = path.stat().st_size
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nContent-Type: application/octet-stream\r\n\r\n"
    conn.sendall(head.encode())
    with open(path, "rb") as handle:
        conn.sendfile(handle, 0, size)


def _reply(conn: socket.socket, status: str, location: str | None = None) -> None:
    extra = f"Location: {location}\r\n" if location else ""
    conn.sendall(f"HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\n\r\n".encode())


def _handle(conn: socket.socket, path: Path) -> None:
    pending = bytearray()
    with conn:
        while (head := _read_head(conn, pending)) is not None:
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
            _discard(conn, pending, int(headers.get("content-length", "0")))
            route = urlsplit(target).path
            if method == "GET" and "/blobs/" in route:
                _serve_file(conn, path)
            elif method in ("POST", "PATCH"):
                _reply(conn, "202 Accepted", _SESSION)
            elif method == "PUT":
                _reply(conn, "201 Created", "/v2/sink/blobs/committed")
            else:
                _reply(conn, "200 OK")


def serve(port: int, path: Path) -> None:
    with socket.create_server(("127.0.0.1", port), backlog=16) as listener:
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_handle, args=(conn, path), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", type=Path, required=True)
    args = parser.parse_args()
    serve(args.port, args.file)


if __name__ == "__main__":
    main()
