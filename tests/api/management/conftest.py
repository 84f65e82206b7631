"""Fixtures for the management API suite: berth with authentication on, driven in-process.

- ``settings``/``app``/``client``: a fresh service (SQLite and PostgreSQL through
  ``database_url``) whose bootstrap owner ``admin@localhost`` has a known password.
- ``owner``: an :class:`ArmCaller` signed in as that owner (Owner on the subscription).
- ``principal``: makes a service principal holding a role at a scope, through the API itself
  (Graph ``POST /v1.0/servicePrincipals`` + ``addPassword``, ARM role assignment), signed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from berth.app import BerthApp, build_app
from berth.config import Settings, load_settings
from tests.api.management.arm import OWNER_PASSWORD, SERVICE_URL, ArmCaller, TestClient, sign_in


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        overrides={
            "data_dir": tmp_path,
            "database_url": database_url,
            "bootstrap_password": OWNER_PASSWORD,
        },
        environ={},
        detect_tls=False,
    )


@pytest.fixture
def app(settings: Settings) -> BerthApp:
    return build_app(settings)


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with TestClient(app, base_url=SERVICE_URL) as test_client:
        yield test_client


@pytest.fixture
def owner(app: BerthApp, client: TestClient) -> ArmCaller:
    token = sign_in(client, username="admin@localhost", password=OWNER_PASSWORD)
    return ArmCaller(client, token, app.services.tenancy.subscription_id)


@pytest.fixture
def principal(owner: ArmCaller) -> Callable[..., ArmCaller]:
    return owner.make_principal
