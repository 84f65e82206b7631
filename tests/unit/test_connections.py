"""berth.connections: the answers the connection guard writes, its reports and its binding.

The limits themselves are exercised with real sockets against ``berth serve`` in
tests/security/test_connection_limits.py.
"""

from __future__ import annotations

import json
import logging

import pytest

from berth import errors
from berth.config import Settings
from berth.connections import (
    REPORT_EVERY_SECONDS,
    ConnectionLimits,
    GuardedProtocol,
    Tally,
    protocol_for,
    raw_error,
)


def test_raw_error_is_a_complete_closing_answer_with_the_oci_envelope() -> None:
    answer = raw_error(errors.HEADERS_TOO_LARGE, "too big", (("retry-after", "1"),))

    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 431 Request Header Fields Too Large"
    assert set(lines[1:]) == {
        "content-type: application/json; charset=utf-8",
        f"content-length: {len(body)}",
        "connection: close",
        "retry-after: 1",
    }
    assert json.loads(body) == {"errors": [{"code": "HEADERS_TOO_LARGE", "message": "too big"}]}


def test_a_tally_reports_at_most_once_a_minute_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="berth.connections")
    tally = Tally(logging.INFO, "connections closed (408)")

    for second in range(120):
        tally.add(1000.0 + second * REPORT_EVERY_SECONDS / 100, f"10.0.0.{second % 250}:4000")

    assert [r.getMessage() for r in caplog.records] == [
        "connections closed (408): 1 since the last report, the latest from 10.0.0.0:4000",
        "connections closed (408): 100 since the last report, the latest from 10.0.0.100:4000",
    ]


def test_the_protocol_class_is_bound_to_the_settings_limits() -> None:
    settings = Settings(
        max_header_bytes=8192, header_timeout_seconds=3, keep_alive_seconds=4, max_connections=9
    )

    protocol = protocol_for(ConnectionLimits.from_settings(settings))

    assert issubclass(protocol, GuardedProtocol)
    assert protocol.limits == ConnectionLimits(8192, 3.0, 4.0, 9)
    assert protocol.timed_out is not protocol_for(protocol.limits).timed_out  # per server, not shared
