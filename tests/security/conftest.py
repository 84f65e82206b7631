"""Fixtures for the security suites: one secure berth per test module and database engine.

- ``engine_url`` (module): parametrized over SQLite and PostgreSQL like ``database_url``, but
  once per module, so a suite sets up its identities once per engine and runs every case on them.
- ``secure`` (module): berth in-process with authentication on, its lifespan running, a
  :class:`TestClient` on the default registry (``localhost:5000``) and an
  :class:`~tests.support.access_setup.AccessSetup` on its database. Brute-force limits are off:
  the suites make thousands of refused attempts on purpose (the limits have their own tests).
- ``no_server_errors`` (autouse): a test during which a live ``berth serve`` answered 5xx fails
  (tests/support/server_errors.py).
- ``dockerd`` (session): the private docker engine of the e2e suites, shared by the suites here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.app import BerthApp, build_app
from berth.config import load_settings
from tests.api.access.wire import BASE_URL, TestClient
from tests.e2e.conftest import dockerd  # noqa: F401 - the session's private dockerd
from tests.support.access_setup import AccessSetup
from tests.support.postgres import create_database
from tests.support.server_errors import watch_server_errors

BOOTSTRAP_PASSWORD = "bootstrap-Passw0rd"


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when a berth server answered 5xx during it."""
    yield from watch_server_errors(request)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('security-db') / 'metadata.db'}"
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    return create_database(admin_url)


@dataclass(frozen=True)
class Secure:
    app: BerthApp
    client: TestClient
    setup: AccessSetup


@pytest.fixture(scope="module")
def secure(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    with pytest.MonkeyPatch.context() as patch:
        # Light argon2 parameters for the suite's many secrets (verification reads them from
        # the hash); the code paths are berth's own.
        patch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        data_dir: Path = tmp_path_factory.mktemp("security-data")
        settings = load_settings(
            overrides={
                "data_dir": data_dir,
                "database_url": engine_url,
                "bootstrap_password": BOOTSTRAP_PASSWORD,
                "auth_failures_per_ip": 0,
                "auth_failures_per_identity": 0,
            },
            environ={},
        )
        app = build_app(settings)
        with TestClient(app, base_url=BASE_URL) as client:
            yield Secure(app, client, AccessSetup.for_app(app))
