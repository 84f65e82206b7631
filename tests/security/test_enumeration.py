"""Name enumeration by timing (issue 8, finding 9).

A wrong password for a name that exists costs argon2 verifications; a name that does not exist
must cost the same (berth verifies against a dummy hash), or the time of a ``401`` tells an
attacker which token names, application ids and user names exist.

Each check is a statistical comparison: samples of the two requests, interleaved so that
load on the machine falls on both alike, and the ratio of their medians must be within a
factor of two. Before the fix the ratio is the cost of one or two argon2 verifications over
a couple of database reads, well beyond that.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.app import BerthApp, build_app
from tests.api.access.wire import TestClient, basic, token_get, token_post
from tests.security.secure_app import clients_of, secure_settings
from tests.support.access_setup import AccessSetup

SAMPLES = 9
UNKNOWN_GUID = "5f0c3a57-0000-4000-8000-00000000e2e7"
REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"


@pytest.fixture(autouse=True)
def measurable_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 costly enough (a few tens of milliseconds) to stand out from request overhead."""
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    # No brute-force limit here: the samples are all failures, and a 429 would cost nothing.
    settings = secure_settings(tmp_path, database_url, auth_failures_per_ip=0, auth_failures_per_identity=0)
    return build_app(settings)


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with clients_of(app) as clients:
        yield clients("testclient")


@pytest.fixture
def setup(app: BerthApp, client: TestClient) -> AccessSetup:
    return AccessSetup.for_app(app)


def indistinguishable(
    known: Callable[[], httpx.Response], unknown: Callable[[], httpx.Response], status: int
) -> None:
    for request in (known, unknown):  # warm-up: caches, the dummy hash, the connection
        assert request().status_code == status
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(SAMPLES):
        pair = [("known", known), ("unknown", unknown)]
        for name, request in pair if i % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            response = request()
            times[name].append(time.perf_counter() - started)
            assert response.status_code == status, response.text
    ratio = statistics.median(times["known"]) / statistics.median(times["unknown"])
    assert 0.5 < ratio < 2.0, {name: [round(t * 1000, 1) for t in sample] for name, sample in times.items()}


def test_token_names_at_the_token_endpoint(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("ci-token", "_repositories_pull")

    indistinguishable(
        lambda: token_get(client, token.name, "wrong-password", "repository:hello:pull"),
        lambda: token_get(client, "no-such-token", "wrong-password", "repository:hello:pull"),
        401,
    )


def test_token_names_with_the_password_grant(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("ci-token", "_repositories_pull")

    indistinguishable(
        lambda: token_post(client, grant_type="password", username=token.name, password="wrong"),
        lambda: token_post(client, grant_type="password", username="no-such-token", password="wrong"),
        401,
    )


def test_token_names_with_basic_on_data_calls(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("ci-token", "_repositories_pull")

    indistinguishable(
        lambda: client.get("/v2/", headers=basic(token.name, "wrong")),
        lambda: client.get("/v2/", headers=basic("no-such-token", "wrong")),
        401,
    )


def test_application_ids_at_the_token_endpoint(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()

    indistinguishable(
        lambda: token_get(client, sp.app_id, "wrong-secret"),
        lambda: token_get(client, UNKNOWN_GUID, "wrong-secret"),
        401,
    )


def test_the_admin_user_enabled_or_not(client: TestClient, setup: AccessSetup) -> None:
    """The registry name is public; whether its admin user is enabled should not be."""
    setup.enable_admin()
    setup.create_registry("quiet")  # admin user disabled
    quiet = {"Host": "quiet.localhost:5000"}

    indistinguishable(
        lambda: client.get("/v2/", headers=basic("default", "wrong")),
        lambda: client.get("/v2/", headers={**basic("quiet", "wrong"), **quiet}),
        401,
    )


def test_application_ids_at_the_directory(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()

    def sign_in(client_id: str) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": "wrong-secret",
            "scope": REGISTRY_SCOPE,
        }
        response: httpx.Response = client.post(f"/{setup.tenant_id}/oauth2/v2.0/token", data=form)
        return response

    indistinguishable(lambda: sign_in(sp.app_id), lambda: sign_in(UNKNOWN_GUID), 401)


def test_user_names_at_the_directory(client: TestClient, setup: AccessSetup) -> None:
    user = setup.user("dev@corp.test")

    def sign_in(upn: str) -> httpx.Response:
        form = {"grant_type": "password", "username": upn, "password": "wrong", "scope": REGISTRY_SCOPE}
        response: httpx.Response = client.post(f"/{setup.tenant_id}/oauth2/v2.0/token", data=form)
        return response

    indistinguishable(lambda: sign_in(user.upn), lambda: sign_in("nobody@corp.test"), 400)
