"""Fixtures of the security suites.

- ``no_server_errors`` (autouse): a test during which a live ``berth serve`` answered 5xx fails
  (tests/support/server_errors.py).
- ``dockerd`` (session): the private docker engine of the e2e suites, shared by the suites here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import dockerd  # noqa: F401 - the session's private dockerd
from tests.support.server_errors import watch_server_errors


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when a berth server answered 5xx during it."""
    yield from watch_server_errors(request)
