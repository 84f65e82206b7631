"""Brute force without lock-out of the rightful owner (issue 8, finding 8).

An attacker guessing one name's password from one address is stopped at that address; the
owner, signing in from another address, keeps working while the attack runs. A much higher
per-name ceiling still bounds a campaign spread over many addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from berth.access import secrets
from berth.app import BerthApp, build_app
from tests.api.access.wire import TestClient, basic, token_get
from tests.security.secure_app import cheap_hasher, clients_of, secure_settings
from tests.support.access_setup import AccessSetup

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.5"
REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"
PER_IDENTITY = 10  # the default: the finding's ten wrong passwords


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_HASHER", cheap_hasher())


def _app(tmp_path: Path, database_url: str, **limits: Any) -> BerthApp:
    return build_app(secure_settings(tmp_path, database_url, **limits))


@pytest.fixture
def clients(tmp_path: Path, database_url: str) -> Iterator[Callable[[str], TestClient]]:
    with clients_of(_app(tmp_path, database_url)) as made:
        yield made


@pytest.fixture
def setup(clients: Callable[[str], TestClient]) -> AccessSetup:
    app = clients(OWNER).app
    assert isinstance(app, BerthApp)
    return AccessSetup.for_app(app)


@dataclass(frozen=True)
class Credential:
    kind: str
    username: str
    password: str


@pytest.fixture(params=["token", "admin", "service principal"])
def credential(request: pytest.FixtureRequest, setup: AccessSetup) -> Credential:
    if request.param == "token":
        token = setup.token("ci-token", "_repositories_pull")
        return Credential("token", token.name, token.password1)
    if request.param == "admin":
        password, _ = setup.enable_admin()
        return Credential("admin", "default", password)
    sp = setup.service_principal()
    return Credential("service principal", sp.app_id, sp.secret)


def test_the_owner_keeps_working_while_an_attack_runs(
    clients: Callable[[str], TestClient], credential: Credential
) -> None:
    attacker, owner = clients(ATTACKER), clients(OWNER)
    for attempt in range(3 * PER_IDENTITY):
        guess = token_get(attacker, credential.username, f"guess-{attempt}")
        assert guess.status_code == (401 if attempt < PER_IDENTITY else 429), (attempt, guess.text)
        # The owner, meanwhile, at both doors of the registry plane:
        assert token_get(owner, credential.username, credential.password).status_code == 200
        assert owner.get("/v2/", headers=basic(credential.username, credential.password)).status_code == 200

    # The attacker's address stays throttled for this name, right password or not...
    assert token_get(attacker, credential.username, credential.password).status_code == 429
    blocked = attacker.get("/v2/", headers=basic(credential.username, credential.password))
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_the_owner_keeps_signing_in_at_the_directory(
    clients: Callable[[str], TestClient], setup: AccessSetup
) -> None:
    attacker, owner = clients(ATTACKER), clients(OWNER)
    sp = setup.service_principal()
    user = setup.user("dev@corp.test")
    tenant_token = f"/{setup.tenant_id}/oauth2/v2.0/token"

    def client_credentials(client: TestClient, secret: str) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_id": sp.app_id, "client_secret": secret}
        response: httpx.Response = client.post(tenant_token, data={**form, "scope": REGISTRY_SCOPE})
        return response

    def password(client: TestClient, secret: str) -> httpx.Response:
        form = {"grant_type": "password", "username": user.upn, "password": secret}
        response: httpx.Response = client.post(tenant_token, data={**form, "scope": REGISTRY_SCOPE})
        return response

    for sign_in, right in ((client_credentials, sp.secret), (password, user.password)):
        for attempt in range(2 * PER_IDENTITY):
            assert sign_in(attacker, f"guess-{attempt}").status_code in (
                (400, 401) if attempt < PER_IDENTITY else (429,)
            )
            assert sign_in(owner, right).status_code == 200
        assert sign_in(attacker, right).status_code == 429


def test_a_campaign_over_many_addresses_meets_the_per_name_ceiling(tmp_path: Path, database_url: str) -> None:
    app = _app(tmp_path, database_url, auth_failures_per_identity_total=12)
    with clients_of(app) as clients:
        owner = clients(OWNER)  # the first client runs the app's startup
        password, _ = AccessSetup.for_app(app).enable_admin()
        for i in range(12):  # 4 addresses x 3 guesses: each far under the per-address limit
            assert token_get(clients(f"198.51.100.{i % 4 + 1}"), "default", "guess").status_code == 401

        fresh = token_get(clients("198.51.100.200"), "default", "guess")
        assert fresh.status_code == 429
        # The documented price: over the ceiling the name waits everywhere, owner included.
        assert token_get(owner, "default", password).status_code == 429
        # Other names are not affected.
        sp = AccessSetup.for_app(app).service_principal()
        assert token_get(owner, sp.app_id, sp.secret).status_code == 200
