"""Fixtures for the API suite: berth's ASGI app driven in-process.

- ``settings``: insecure (no auth) settings on a fresh data directory and the parametrized
  ``database_url``, so every API test runs on SQLite and on PostgreSQL.
- ``app``: the app built from those settings (its lifespan runs inside ``client``).
- ``client``: a :class:`TestClient` addressing the bare ``localhost:5000``, i.e. the default
  registry. Every response it receives is checked for ``Docker-Distribution-Api-Version``.
- ``other_registry``: a second registry, ``MyReg``, created in the app's database.

Each test's database starts as a copy of one that a berth started (and stopped) once per
session and engine: the first start's work — keys, the owner user's argon2 hash, the default
registry — costs most of a second, and a copy is what every later start of berth sees anyway.
The test's own app still runs its full startup on the copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from berth.app import BerthApp, build_app
from berth.config import Settings, load_settings
from berth.metadata import registries as registry_rows
from berth.metadata.registries import RegistryRecord
from tests.api.oci import BASE_URL, TestClient
from tests.support.postgres import create_database

SQLITE_PREFIX = "sqlite:///"


def insecure_settings(data_dir: Path, database_url: str) -> Settings:
    return load_settings(
        overrides={"insecure_no_auth": True, "data_dir": data_dir, "database_url": database_url},
        environ={},
    )


def _start_once(data_dir: Path, database_url: str) -> None:
    with TestClient(build_app(insecure_settings(data_dir, database_url)), base_url=BASE_URL) as started:
        assert started.get("/v2/").status_code == 200


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sqlite-template")
    _start_once(root, f"{SQLITE_PREFIX}{root / 'metadata.db'}")
    return root / "metadata.db"


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a PostgreSQL database that berth has started on once."""
    url = create_database(postgres_admin_url)
    _start_once(tmp_path_factory.mktemp("postgres-template"), url)
    return url.rsplit("/", 1)[1]


def _clone_into(request: pytest.FixtureRequest, database_url: str) -> None:
    if database_url.startswith(SQLITE_PREFIX):
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, database_url[len(SQLITE_PREFIX) :])
        return
    name = database_url.rsplit("/", 1)[1]
    template_name: str = request.getfixturevalue("postgres_template")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    _clone_into(request, database_url)
    return insecure_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> BerthApp:
    return build_app(settings)


def _api_version_present(response: httpx.Response) -> None:
    assert response.headers.get("Docker-Distribution-Api-Version") == "registry/2.0", (
        f"{response.request.method} {response.request.url} -> {response.status_code} "
        "lacks Docker-Distribution-Api-Version: registry/2.0"
    )


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.event_hooks = {"request": [], "response": [_api_version_present]}
        yield test_client


@pytest.fixture
def other_registry(app: BerthApp, client: TestClient) -> RegistryRecord:
    """A second registry, created after startup (the ``client`` fixture ran the schema)."""
    return app.services.db.write_sync(registry_rows.create, "MyReg")
