"""Brute-force protection: failures counted per client IP and per identity → 429 + Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from berth.app import build_app
from berth.config import Settings
from tests.api.access.wire import (
    BASE_URL,
    TestClient,
    basic,
    error_of,
    exchange,
    sp_directory_token,
    token_get,
)
from tests.support.access_setup import NULL_GUID, AccessSetup


def assert_limited(response: object, window: int) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 429, response.text
    assert error_of(response)["code"] == "TOOMANYREQUESTS"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(auth_failures_per_identity=3, auth_failures_per_ip=8, auth_failure_window_seconds=60)


def test_an_identity_over_the_limit_gets_429_while_others_still_log_in(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    sp = setup.service_principal()
    for _ in range(3):
        assert token_get(client, admin[0], "wrong").status_code == 401

    assert_limited(token_get(client, admin[0], "wrong"), 60)
    # Even the right password waits: the attacker must not learn when it guessed right.
    assert_limited(token_get(client, *admin), 60)
    assert_limited(client.get("/v2/", headers=basic(*admin)), 60)
    # Someone else, from the same address, is unaffected.
    assert token_get(client, sp.app_id, sp.secret).status_code == 200


def test_an_ip_over_the_limit_gets_429_while_other_ips_still_log_in(
    clients: Callable[[str], TestClient], setup: AccessSetup, admin: tuple[str, str]
) -> None:
    attacker = clients("198.51.100.66")
    for i in range(8):
        assert token_get(attacker, f"guess-{i}", "x").status_code == 401

    assert_limited(token_get(attacker, "guess-next", "x"), 60)
    assert_limited(token_get(attacker, *admin), 60)
    assert token_get(clients("203.0.113.5"), *admin).status_code == 200


def test_unknown_names_count_per_identity_too(client: TestClient) -> None:
    for _ in range(3):
        assert token_get(client, "someone", "x").status_code == 401
    assert_limited(token_get(client, "SOMEONE", "x"), 60)


def test_the_directory_token_endpoint_is_limited(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()
    form = {
        "grant_type": "client_credentials",
        "client_id": sp.app_id,
        "scope": "https://containerregistry.azure.net/.default",
    }
    for _ in range(3):
        assert (
            client.post(
                f"/{setup.tenant_id}/oauth2/v2.0/token", data={**form, "client_secret": "x"}
            ).status_code
            == 401
        )
    limited = client.post(f"/{setup.tenant_id}/oauth2/v2.0/token", data={**form, "client_secret": sp.secret})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_the_window_passes(make_settings: Callable[..., Settings]) -> None:
    app = build_app(make_settings(auth_failures_per_identity=2, auth_failure_window_seconds=3))
    with TestClient(app, base_url=BASE_URL) as client:
        password, _ = AccessSetup.for_app(app).enable_admin()
        for _ in range(2):
            assert token_get(client, "default", "wrong").status_code == 401
        limited = token_get(client, "default", password)
        assert limited.status_code == 429
        time.sleep(int(limited.headers["Retry-After"]) + 0.1)
        assert token_get(client, "default", password).status_code == 200


def test_bad_tokens_under_the_null_guid_do_not_lock_out_everyone_who_uses_one(
    clients: Callable[[str], TestClient], setup: AccessSetup
) -> None:
    """The null GUID names no identity: garbage tokens count against the sender's IP only.

    Otherwise a handful of forged tokens would block every docker user holding an identity
    token (and every ``az acr login``) for the whole window.
    """
    attacker, victim = clients("198.51.100.66"), clients("203.0.113.5")
    sp = setup.service_principal()
    refresh = exchange(victim, sp_directory_token(victim, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]
    for _ in range(3):  # 6 failures: over the per-identity limit (3), under the per-IP one (8)
        assert token_get(attacker, NULL_GUID, "forged.token.value").status_code == 401
        assert attacker.get("/v2/", headers=basic(NULL_GUID, "forged.token.value")).status_code == 401

    assert token_get(victim, NULL_GUID, refresh, "repository:hello:pull").status_code == 200
    assert victim.get("/v2/", headers=basic(NULL_GUID, refresh)).status_code == 200
    # The attacker's address is still limited as usual.
    for _ in range(2):
        assert token_get(attacker, NULL_GUID, "forged.token.value").status_code == 401
    assert_limited(token_get(attacker, NULL_GUID, refresh), 60)
