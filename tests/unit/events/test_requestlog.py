"""The request log's fields and lines, from a :class:`RequestSummary`."""

from __future__ import annotations

import json
import logging

from berth.access.model import AuthOutcome, Denial, Grant, Identity, IdentityKind
from berth.errors import UNAUTHORIZED, WireError
from berth.events.observer import RequestSummary
from berth.events.requestlog import human_line, identity_of, request_fields
from berth.logformat import JsonFormatter


def summary(**changes: object) -> RequestSummary:
    base = RequestSummary(
        method="GET",
        path="/v2/app/manifests/v1",
        route="manifest",
        status=200,
        duration_ms=12.345,
        client_ip="203.0.113.5",
        user_agent="docker/27",
        correlation_id="c0ffee",
        login_server="localhost",
        bytes_out=512,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_the_identity_comes_from_the_grant_then_the_login_then_the_denial() -> None:
    user = Identity(IdentityKind.USER, "ana@example.com")
    sp = Identity(IdentityKind.SERVICE_PRINCIPAL, "app-id")
    denial = Denial("bad_password", WireError(UNAUTHORIZED, "no"), identity=Identity.presented("eve"))

    assert identity_of(summary()) == ""
    assert identity_of(summary(grant=Grant(user))) == "ana@example.com"
    assert identity_of(summary(auth=AuthOutcome("token", sp))) == "app-id"
    assert identity_of(summary(denial=denial)) == "eve"
    assert identity_of(summary(caller="owner@localhost", grant=Grant(user))) == "owner@localhost"


def test_the_human_line_reads_left_to_right() -> None:
    line = human_line(request_fields(summary(grant=Grant(Identity(IdentityKind.USER, "ana")))))

    assert line == (
        '203.0.113.5 - ana "GET /v2/app/manifests/v1" 200 in=0 out=512 12.3ms cid=c0ffee "docker/27"'
    )


def test_json_lines_carry_the_fields_at_the_top_level() -> None:
    fields = request_fields(summary(user_agent="evil\nagent"))
    record = logging.LogRecord("berth.request", logging.INFO, __file__, 1, human_line(fields), None, None)
    record.request = fields

    document = json.loads(JsonFormatter().format(record))

    assert document["logger"] == "berth.request"
    assert document["level"] == "info"
    assert document["correlation_id"] == "c0ffee"
    assert document["status"] == 200
    assert document["user_agent"] == "evil\\nagent"  # escaped for the human line as well
    assert document["message"].count("\n") == 0
