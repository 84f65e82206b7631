"""Every 5xx answer counts as a test failure in the suites that drive a live server.

berth writes one line for each answer with a 5xx status (``berth.http: answered 500 to GET
/v2/...``, see :mod:`berth.server_errors`); uvicorn writes ``Exception in ASGI application``
when the application fails before answering. :func:`watch_server_errors` is the body of an
autouse fixture: it notes where the log of every :class:`BerthServer` of the session stands
before a test and, after it, fails the test if any of them wrote such a line meanwhile.

A test that provokes a 5xx on purpose (the disk-full suite's 507) names the statuses it
expects with ``@pytest.mark.allow_server_errors(507)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.server import BerthServer

ANSWERED = re.compile(r"berth\.http: answered (?P<status>5\d\d) to .*")
UNCAUGHT = re.compile(r".*Exception in ASGI application.*")


def server_errors(text: str, allowed: frozenset[int] = frozenset()) -> list[str]:
    """The lines of a server log that report a 5xx answer whose status is not ``allowed``."""
    found = [m.group(0) for m in ANSWERED.finditer(text) if int(m.group("status")) not in allowed]
    return found + [m.group(0) for m in UNCAUGHT.finditer(text)]


def _allowed(request: pytest.FixtureRequest) -> frozenset[int]:
    statuses: set[int] = set()
    for marker in request.node.iter_markers("allow_server_errors"):
        statuses.update(int(status) for status in marker.args)
    return frozenset(statuses)


def watch_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    before = {id(server): server.log_size() for server in BerthServer.instances()}
    yield
    allowed = _allowed(request)
    problems: list[str] = []
    for server in BerthServer.instances():
        lines = server_errors(server.log_since(before.get(id(server), 0)), allowed)
        problems += [f"berth on {server.address}: {line}" for line in lines]
    if problems:
        pytest.fail("the server answered 5xx during this test:\n" + "\n".join(problems), pytrace=False)
