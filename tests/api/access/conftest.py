"""Fixtures for the access suite: berth in-process with authentication ON.

- ``settings``: secure settings (no ``insecure_no_auth``) on a fresh data directory and the
  parametrized ``database_url`` (SQLite and PostgreSQL); ``make_settings`` for variants.
- ``app`` / ``client``: the app and a :class:`TestClient` on ``localhost:5000`` (the default
  registry), peer address ``testclient``.
- ``client_from(ip)``: more clients of the same app with a given peer IP (network rules).
- ``setup``: :class:`tests.support.access_setup.AccessSetup` on the app's database.
- ``admin``: the default registry's admin user enabled, as ``(username, password)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.app import BerthApp, build_app
from berth.config import Settings, load_settings
from tests.api.access.wire import BASE_URL, TestClient, authorized, basic, push_image
from tests.support.access_setup import AccessSetup

BOOTSTRAP_PASSWORD = "bootstrap-Passw0rd"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test secrets with light argon2 parameters (verification reads them from the hash).

    berth's defaults cost most of a second per hash on a loaded 2-core machine; the suite
    hashes hundreds of secrets. The code paths are the same, only the work factor differs.
    """
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values = {
            "data_dir": tmp_path,
            "database_url": database_url,
            "bootstrap_password": BOOTSTRAP_PASSWORD,
            **overrides,
        }
        return load_settings(overrides=values, environ={})

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> BerthApp:
    return build_app(settings)


@pytest.fixture
def clients(app: BerthApp) -> Iterator[Callable[[str], TestClient]]:
    """Clients of ``app`` by peer IP; the first one entered runs the app's startup."""
    with ExitStack() as stack:
        made: dict[str, TestClient] = {}

        def client_for(ip: str) -> TestClient:
            if ip not in made:
                made[ip] = stack.enter_context(TestClient(app, base_url=BASE_URL, client=(ip, 50000)))
            return made[ip]

        yield client_for


@pytest.fixture
def client(clients: Callable[[str], TestClient]) -> TestClient:
    return clients("testclient")


@pytest.fixture
def client_from(client: TestClient, clients: Callable[[str], TestClient]) -> Callable[[str], TestClient]:
    return clients


@pytest.fixture
def setup(app: BerthApp, client: TestClient) -> AccessSetup:
    """State set-up on the app's database (after startup created the default registry)."""
    return AccessSetup.for_app(app)


@pytest.fixture
def admin(setup: AccessSetup) -> tuple[str, str]:
    password, _ = setup.enable_admin()
    return "default", password


@pytest.fixture
def pushed(client: TestClient, admin: tuple[str, str]) -> dict[str, str]:
    """Images ``hello:v1`` and ``other:v1`` pushed with the admin user; repository -> digest."""
    digests = {}
    with authorized(client, basic(*admin)):
        for repository in ("hello", "other"):
            digests[repository] = push_image(client, repository, "v1", seed=repository)
    return digests
