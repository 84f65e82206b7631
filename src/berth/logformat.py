"""berth's log output: a human format or JSON lines (``log_format``), and what uvicorn's HTTP
protocol says about bytes that are not HTTP.

Every record goes to stderr. In JSON, each line is one object with ``time`` (ISO 8601, UTC),
``level``, ``logger`` and ``message``; request log lines add their fields (see
:mod:`berth.events.requestlog`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_INVALID = "Invalid HTTP request received."
TLS_HANDSHAKE = 0x16  # the first byte of a TLS record carrying a ClientHello


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            document.update(fields)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, separators=(",", ":"))


class _DropBareInvalid(logging.Filter):
    """uvicorn's own line for a request it cannot parse names no client; :class:`LoggedHttpProtocol`
    writes one that does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != UVICORN_INVALID


def configure_logging(level: str, fmt: str = "text") -> None:
    # Neither format shows the thread or process: not collecting them saves a few microseconds
    # on every record, which the request log writes once per request.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(HUMAN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropBareInvalid) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_DropBareInvalid())


log = logging.getLogger("berth.connection")


class LoggedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, naming the client that sent bytes which are not HTTP.

    A TLS handshake sent to the plain-HTTP port (a client configured for HTTPS) is said to be
    one; the connection is answered 400 and closed by uvicorn, so this is logged once per
    connection.
    """

    _first_byte: int | None = None

    def data_received(self, data: bytes) -> None:
        if self._first_byte is None and data:
            self._first_byte = data[0]
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "unknown client"
        if self._first_byte == TLS_HANDSHAKE:
            log.warning(
                "%s sent a TLS handshake to this plain-HTTP port: the client expects HTTPS "
                "(configure it for http://, or serve TLS: see docs/tls.md)",
                client,
            )
        else:
            log.warning("%s sent bytes that are not HTTP/1.1; closing the connection", client)
        super().send_400_response(msg)
