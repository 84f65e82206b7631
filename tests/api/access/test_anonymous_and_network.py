"""Anonymous pull (off by default, read-only) and network rules (checked before credentials)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.access.wire import (
    UNAUTHORIZED_MESSAGE,
    TestClient,
    access_token,
    basic,
    bearer,
    error_of,
    exchange,
    payload,
    sp_directory_token,
    token_get,
    token_post,
)
from tests.support.access_setup import AccessSetup

ALLOWED_IP = "203.0.113.10"
DENIED_IP = "198.51.100.7"


def firewall_message(ip: str) -> str:
    return f"client with IP '{ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."


# --- anonymous pull ------------------------------------------------------------------------


def test_anonymous_pull_is_off_by_default(client: TestClient, pushed: dict[str, str]) -> None:
    response = token_get(client, None, None, "repository:hello:pull")
    assert response.status_code == 401
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE
    assert client.get("/v2/hello/manifests/v1").status_code == 401


def test_anonymous_pull_reads_every_repository_but_writes_nothing(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    setup.set_anonymous_pull(True)
    # The data plane still challenges; anonymity is granted through the token endpoint.
    assert client.get("/v2/hello/manifests/v1").status_code == 401

    token = token_get(client, None, None, "repository:hello:pull,push,delete").json()["access_token"]
    assert payload(token)["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    assert client.get("/v2/hello/manifests/v1", headers=bearer(token)).status_code == 200
    upload = client.post("/v2/hello/blobs/uploads/", headers=bearer(token))
    assert upload.status_code == 401
    assert 'error="insufficient_scope"' in upload.headers["WWW-Authenticate"]
    delete = client.delete(f"/v2/hello/manifests/{pushed['hello']}", headers=bearer(token))
    assert delete.status_code == 401

    other = token_get(client, None, None, "repository:other:pull").json()["access_token"]
    assert client.get("/v2/other/manifests/v1", headers=bearer(other)).status_code == 200


def test_stale_credentials_are_still_rejected_with_anonymous_pull_on(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str], pushed: dict[str, str]
) -> None:
    setup.set_anonymous_pull(True)
    response = token_get(client, admin[0], "stale-password", "repository:hello:pull")
    assert response.status_code == 401
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE
    stale = client.get("/v2/hello/manifests/v1", headers=basic(admin[0], "stale-password"))
    assert stale.status_code == 401


def test_anonymous_pull_is_per_registry(client: TestClient, setup: AccessSetup) -> None:
    setup.create_registry("otherreg")
    setup.set_anonymous_pull(True, "otherreg")
    host = "otherreg.localhost:5000"
    allowed = client.get(
        "/oauth2/token", params={"service": host, "scope": "repository:a:pull"}, headers={"Host": host}
    )
    assert allowed.status_code == 200
    assert token_get(client, None, None, "repository:a:pull").status_code == 401


# --- network rules ---------------------------------------------------------------------------


@pytest.fixture
def firewalled(setup: AccessSetup) -> AccessSetup:
    setup.set_network_rules(default_action="Deny", allow=(f"{ALLOWED_IP}/32", "192.0.2.0/24"))
    return setup


def assert_firewall(response: object, ip: str) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 403, response.text
    assert response.json() == {"errors": [{"code": "DENIED", "message": firewall_message(ip)}]}
    assert response.headers["content-type"].startswith("application/json")


def test_a_denied_ip_gets_403_on_every_endpoint_before_credentials(
    client_from: Callable[[str], TestClient], firewalled: AccessSetup, admin: tuple[str, str]
) -> None:
    denied = client_from(DENIED_IP)
    sp = firewalled.service_principal()
    directory_token = sp_directory_token(denied, firewalled.tenant_id, sp.app_id, sp.secret)

    assert_firewall(denied.get("/v2/"), DENIED_IP)
    assert_firewall(denied.get("/v2/", headers=basic(*admin)), DENIED_IP)
    assert_firewall(token_get(denied, *admin, "repository:hello:pull"), DENIED_IP)
    assert_firewall(token_get(denied, None, None), DENIED_IP)
    assert_firewall(
        token_post(denied, grant_type="password", username=admin[0], password=admin[1]), DENIED_IP
    )
    assert_firewall(exchange(denied, directory_token), DENIED_IP)
    assert_firewall(denied.get("/v2/hello/manifests/v1"), DENIED_IP)
    assert_firewall(denied.get("/acr/v1/_catalog"), DENIED_IP)


def test_allowed_ips_pass_the_firewall(
    client_from: Callable[[str], TestClient], firewalled: AccessSetup, admin: tuple[str, str]
) -> None:
    for ip in (ALLOWED_IP, "192.0.2.200"):
        allowed = client_from(ip)
        assert allowed.get("/v2/").status_code == 401
        token = access_token(allowed, *admin)
        assert allowed.get("/v2/", headers=bearer(token)).status_code == 200


def test_a_valid_token_does_not_pass_the_firewall(
    client_from: Callable[[str], TestClient], firewalled: AccessSetup, admin: tuple[str, str]
) -> None:
    token = access_token(client_from(ALLOWED_IP), *admin)
    assert_firewall(client_from(DENIED_IP).get("/v2/", headers=bearer(token)), DENIED_IP)


def test_public_network_access_disabled_denies_everyone(
    client_from: Callable[[str], TestClient], setup: AccessSetup, admin: tuple[str, str]
) -> None:
    setup.set_network_rules(public=False, default_action="Allow", allow=(f"{ALLOWED_IP}/32",))
    assert_firewall(client_from(ALLOWED_IP).get("/v2/"), ALLOWED_IP)
    assert_firewall(token_get(client_from(DENIED_IP), *admin), DENIED_IP)


def test_default_allow_ignores_the_rules(
    client_from: Callable[[str], TestClient], setup: AccessSetup
) -> None:
    setup.set_network_rules(default_action="Allow", allow=(f"{ALLOWED_IP}/32",))
    assert client_from(DENIED_IP).get("/v2/").status_code == 401


def test_network_rules_are_per_registry(
    client_from: Callable[[str], TestClient], firewalled: AccessSetup
) -> None:
    firewalled.create_registry("otherreg")
    response = client_from(DENIED_IP).get("/v2/", headers={"Host": "otherreg.localhost:5000"})
    assert response.status_code == 401
