"""berth.server_errors: one log line per 5xx answer; and the scan the live-server suites use."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from berth.server_errors import ServerErrorLog
from tests.api.oci import TestClient
from tests.support.server_errors import server_errors


async def _answer(request: Request) -> Response:
    status = int(request.path_params["status"])
    return Response(b"", status_code=status, headers={"X-Ms-Correlation-Request-Id": "c-1"})


def test_every_5xx_answer_and_no_other_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = ServerErrorLog(Starlette(routes=[Route("/answer/{status}", _answer)]))
    caplog.set_level(logging.WARNING, logger="berth.http")

    with TestClient(app) as client:
        for status in (200, 404, 500, 507):
            client.get(f"/answer/{status}?secret=s3cr3t")

    assert [r.getMessage() for r in caplog.records if r.name == "berth.http"] == [
        "answered 500 to GET /answer/500 (correlation id c-1)",
        "answered 507 to GET /answer/507 (correlation id c-1)",
    ]


def test_the_scan_finds_5xx_lines_and_uncaught_exceptions_but_not_allowed_ones() -> None:
    log = "\n".join(
        [
            "2026-12-05 05:00:00,000 INFO berth: berth serving on http://127.0.0.1:5000",
            "2026-12-05 05:00:01,000 WARNING berth.http: answered 500 to GET /v2/ (correlation id c-1)",
            "2026-12-05 05:00:02,000 WARNING berth.http: answered 507 to PUT /v2/a/blobs/uploads/x",
            "2026-12-05 05:00:03,000 ERROR uvicorn.error: Exception in ASGI application",
        ]
    )

    found = server_errors(log, allowed=frozenset({507}))

    assert found == [
        "berth.http: answered 500 to GET /v2/ (correlation id c-1)",
        "2026-12-05 05:00:03,000 ERROR uvicorn.error: Exception in ASGI application",
    ]
    assert server_errors("berth.http: answered 404 to GET /v2/x") == []
