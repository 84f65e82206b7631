"""The log output's cheap paths render exactly what the plain ones did, and lose no line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from berth.logformat import (
    HUMAN_FORMAT,
    HumanFormatter,
    JsonFormatter,
    LoopBatchedStreamHandler,
    iso_time,
    write_info,
)


def _record(created: float, level: int = logging.INFO, message: str = "hello") -> logging.LogRecord:
    record = logging.LogRecord("berth.request", level, "", 0, message, (), None)
    record.created = created
    record.msecs = (created - int(created)) * 1000 // 1
    return record


def test_the_human_time_is_what_logging_renders() -> None:
    cached, plain = HumanFormatter(), logging.Formatter(HUMAN_FORMAT)
    for step in range(5000):
        record = _record(1_800_000_000 + step / 997)
        assert cached.format(record) == plain.format(record)


def test_the_json_time_is_what_datetime_renders_even_next_to_a_second() -> None:
    cache = [(-1, "")]
    moments = [1_800_000_000 + step / 991 for step in range(5000)]
    moments += [1_800_000_000.9995, 1_800_000_000.9999996, 1_800_000_001.0, 1_800_000_000.0004999]
    for created in moments:
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert iso_time(created, cache) == expected


def test_json_lines_keep_their_fields() -> None:
    record = _record(1_800_000_000.25)
    record.request = {"status": 200, "path": "/v2/"}
    document = json.loads(JsonFormatter().format(record))
    assert document == {
        "time": "2027-01-15T08:00:00.250+00:00",
        "level": "info",
        "logger": "berth.request",
        "message": "hello",
        "status": 200,
        "path": "/v2/",
    }


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _handler() -> tuple[LoopBatchedStreamHandler, _CountingStream]:
    stream = _CountingStream()
    handler = LoopBatchedStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return handler, stream


def test_outside_a_loop_every_line_is_written_at_once() -> None:
    handler, stream = _handler()
    handler.handle(_record(1.0, message="one"))
    assert stream.getvalue() == "INFO one\n"


def test_on_the_loop_lines_wait_for_the_iteration_then_go_in_one_write() -> None:
    handler, stream = _handler()

    async def scenario() -> None:
        for n in range(3):
            handler.handle(_record(1.0, message=f"line {n}"))
        assert stream.getvalue() == ""  # still this iteration
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert stream.getvalue() == "INFO line 0\nINFO line 1\nINFO line 2\n"
        assert stream.writes == 1

    asyncio.run(scenario())


def test_a_warning_goes_out_at_once_after_the_lines_before_it() -> None:
    handler, stream = _handler()

    async def scenario() -> None:
        handler.handle(_record(1.0, message="request"))
        handler.handle(_record(1.0, logging.WARNING, "trouble"))
        assert stream.getvalue() == "INFO request\nWARNING trouble\n"

    asyncio.run(scenario())


def test_flush_writes_what_is_kept() -> None:
    handler, stream = _handler()

    async def scenario() -> None:
        handler.handle(_record(1.0, message="last words"))
        handler.flush()  # logging.shutdown and configure_logging do this
        assert stream.getvalue() == "INFO last words\n"

    asyncio.run(scenario())


@pytest.fixture
def root_with(monkeypatch: pytest.MonkeyPatch) -> Callable[[logging.Handler], None]:
    """Make ``handler`` the root logger's only handler for the test (pytest's own are put back)."""

    def install(handler: logging.Handler) -> None:
        monkeypatch.setattr(logging.root, "handlers", [handler])
        monkeypatch.setattr(logging.root, "level", logging.INFO)
        monkeypatch.setattr(time, "time", lambda: 1_800_000_000.25)  # LogRecord's clock too

    return install


@pytest.mark.parametrize("formatter", [HumanFormatter(), JsonFormatter()], ids=["text", "json"])
def test_the_direct_line_is_the_line_the_record_would_make(
    root_with: Callable[[logging.Handler], None], formatter: logging.Formatter
) -> None:
    stream = io.StringIO()
    handler = LoopBatchedStreamHandler(stream)
    handler.setFormatter(formatter)
    root_with(handler)
    logger = logging.getLogger("berth.request")
    fields = {"status": 200, "path": "/v2/", "identity": None}

    assert write_info(logger, "GET /v2/ 200", fields)
    logger.handle(
        logger.makeRecord(
            logger.name, logging.INFO, "", 0, "GET /v2/ 200", (), None, None, {"request": fields}
        )
    )

    direct, logged, rest = stream.getvalue().split("\n")
    assert direct == logged
    assert rest == ""


def test_anything_else_on_the_way_gets_the_record(root_with: Callable[[logging.Handler], None]) -> None:
    handler, _ = _handler()
    handler.setFormatter(HumanFormatter())
    root_with(handler)
    logger = logging.getLogger("berth.request")
    assert write_info(logger, "fast", {})

    class Keep(logging.Filter):
        pass

    changes: list[tuple[Callable[[], object], Callable[[], object]]] = [
        (lambda: logger.addFilter(Keep()), lambda: logger.filters.clear()),
        (
            lambda: logging.getLogger("berth").addHandler(logging.NullHandler()),
            lambda: logging.getLogger("berth").handlers.clear(),
        ),
        (lambda: logging.root.addHandler(logging.NullHandler()), lambda: logging.root.handlers.pop()),
        (lambda: handler.setLevel(logging.WARNING), lambda: handler.setLevel(logging.NOTSET)),
        (lambda: handler.setFormatter(logging.Formatter()), lambda: handler.setFormatter(HumanFormatter())),
        (lambda: setattr(logger, "propagate", False), lambda: setattr(logger, "propagate", True)),
    ]
    for attach, detach in changes:
        attach()
        try:
            assert not write_info(logger, "slow", {})
        finally:
            detach()
    assert write_info(logger, "fast again", {})
