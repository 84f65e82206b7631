"""Fixtures of the security suites: every suite that runs a live ``berth serve`` fails a test
during which the server answered 5xx (tests/support/server_errors.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server_errors import watch_server_errors


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when a berth server answered 5xx during it."""
    yield from watch_server_errors(request)
