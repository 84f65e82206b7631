"""berth's log output: a human format or JSON lines (``log_format``), and what uvicorn's HTTP
protocol says about bytes that are not HTTP.

Every record goes to stderr. In JSON, each line is one object with ``time`` (ISO 8601, UTC),
``level``, ``logger`` and ``message``; request log lines add their fields (see
:mod:`berth.events.requestlog`).

The request log writes a line per request, so its fixed costs are kept low (docs/performance.md,
issue 14): both formatters render the time's date and clock once per second, and lines logged
on the event loop below ``warning`` are written together once per loop iteration
(:class:`LoopBatchedStreamHandler`), not with a write and a flush each.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_INVALID = "Invalid HTTP request received."
TLS_HANDSHAKE = 0x16  # the first byte of a TLS record carrying a ClientHello


class HumanFormatter(logging.Formatter):
    """:data:`HUMAN_FORMAT` with ``asctime`` as :class:`logging.Formatter` renders it, the
    date and clock part computed once per second rather than once per record."""

    def __init__(self) -> None:
        super().__init__(HUMAN_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return f"{self._clock(int(record.created))},{int(record.msecs):03d}"  # default_msec_format

    def _clock(self, second: int) -> str:
        cached = self._second  # one tuple: threads never see a second with another's text
        if cached[0] != second:
            cached = self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        return cached[1]

    def info_line(self, name: str, message: str, fields: dict[str, Any], created: float) -> str:
        """What :meth:`format` makes of an ``info`` record of logger ``name`` (see :func:`write_info`)."""
        second = int(created)
        return f"{self._clock(second)},{int((created - second) * 1000):03d} INFO {name}: {message}"


def iso_time(created: float, cache: list[tuple[int, str]]) -> str:
    """``created`` as ISO 8601 UTC with milliseconds (``2026-01-02T03:04:05.678+00:00``), the
    seconds part rendered once per second (``cache`` holds the last one)."""
    second = int(created)
    micros = round((created - second) * 1e6)
    if micros >= 1_000_000 or created < 0:  # rounds up into the next second: let datetime say
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    cached = cache[0]
    if cached[0] != second:
        cached = cache[0] = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second: list[tuple[int, str]] = [(-1, "")]

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": iso_time(record.created, self._second),
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

    def info_line(self, name: str, message: str, fields: dict[str, Any], created: float) -> str:
        """What :meth:`format` makes of an ``info`` record of logger ``name`` (see :func:`write_info`)."""
        document: dict[str, Any] = {
            "time": iso_time(created, self._second),
            "level": "info",
            "logger": name,
            "message": message,
        }
        document.update(fields)
        return json.dumps(document, separators=(",", ":"))


class _DropBareInvalid(logging.Filter):
    """uvicorn's own line for a request it cannot parse names no client; :class:`LoggedHttpProtocol`
    writes one that does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != UVICORN_INVALID


class LoopBatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines logged during one event-loop iteration at once.

    A record below ``warning`` logged on a thread running an asyncio loop is formatted at once
    and kept; the first one kept schedules :meth:`flush` with ``call_soon``, which writes them
    all with one write and one flush when the loop gets to it (after the callbacks already
    ready, typically a few finished requests). Warnings and errors, and records from any other
    thread, write what is kept and then themselves immediately, so the order of lines is kept
    and nothing that matters waits. :func:`logging.shutdown` and :func:`configure_logging`
    flush too; a process killed outright loses at most the lines of its last loop iteration.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Called by Handler.handle with self.lock held.
        try:
            self.keep(self.format(record), record.levelno < logging.WARNING)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def keep(self, text: str, may_wait: bool = True) -> None:
        """Write ``text`` as one line: with the loop iteration's other lines if ``may_wait``
        and this thread runs an event loop, else (after those) at once."""
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(text + self.terminator)
            loop = asyncio._get_running_loop() if may_wait else None
            if loop is None or loop.is_closed():
                self.flush()
            elif len(self._pending) == 1:
                loop.call_soon(self.flush)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._pending:
                text = "".join(self._pending)
                self._pending.clear()
                self.stream.write(text)
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()


def write_info(logger: logging.Logger, message: str, fields: dict[str, Any]) -> bool:
    """Write an ``info`` line of ``logger`` (with JSON ``fields``) without a ``LogRecord``, when
    the only thing that would see the record is the handler :func:`configure_logging` set up.

    The request log writes a line per request; the record, the logger and handler calls and the
    formatter's generic path cost several microseconds of it. The line is the one
    :meth:`HumanFormatter.format` or :meth:`JsonFormatter.format` would write. Returns False
    (nothing written: log the record) when anything else is attached on the way: a handler or
    filter on the logger or a parent, another root handler (pytest's ``caplog``), a handler
    level above ``info``, logging disabled, or another formatter.
    """
    if logger.disabled or logging.root.manager.disable >= logging.INFO:
        return False
    node: logging.Logger | None = logger
    while node is not None and node is not logging.root:
        if node.handlers or node.filters or not node.propagate:
            return False
        node = node.parent
    root = logging.root
    if root.filters or len(root.handlers) != 1:
        return False
    handler = root.handlers[0]
    if type(handler) is not LoopBatchedStreamHandler or handler.filters or handler.level > logging.INFO:
        return False
    formatter = handler.formatter
    if type(formatter) is not HumanFormatter and type(formatter) is not JsonFormatter:
        return False
    handler.keep(formatter.info_line(logger.name, message, fields, time.time()))
    return True


def configure_logging(level: str, fmt: str = "text") -> None:
    # Neither format shows the thread or process: not collecting them saves a few microseconds
    # on every record, which the request log writes once per request.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = LoopBatchedStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        old.flush()
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
