"""The authorization-code flow with PKCE at the directory: the sign-in page, the redirect with a
code and state, and the token endpoint's ``authorization_code`` grant."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from berth.directory.authorization import PORTAL_CLIENT_ID
from berth.directory.authorization_codes import s256
from tests.api.management.arm import OWNER_PASSWORD, TestClient

REDIRECT = "http://localhost:5000/portal/auth/callback"
TOKEN = "/organizations/oauth2/v2.0/token"
SCOPE = "openid https://management.azure.com/.default"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the flow keeps its codes in memory and reads users as the password grant does."""
    return f"sqlite:///{tmp_path / 'metadata.db'}"


def authorize(client: TestClient, verifier: str, **overrides: str) -> httpx.Response:
    query = {
        "client_id": PORTAL_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "the-state",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    answer: httpx.Response = client.get(
        f"/organizations/oauth2/v2.0/authorize?{urlencode(query)}", follow_redirects=False
    )
    return answer


def code_for(client: TestClient, verifier: str, password: str = OWNER_PASSWORD) -> httpx.Response:
    page = authorize(client, verifier)
    assert page.status_code == 200, page.text
    request_id = re.search(r'name="request" value="([^"]+)"', page.text)
    assert request_id is not None
    answer: httpx.Response = client.post(
        "/organizations/oauth2/v2.0/authorize",
        data={"request": request_id.group(1), "username": "admin@localhost", "password": password},
        follow_redirects=False,
    )
    return answer


def redeem(client: TestClient, code: str, verifier: str, redirect: str = REDIRECT) -> httpx.Response:
    answer: httpx.Response = client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": PORTAL_CLIENT_ID,
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    )
    return answer


def test_a_signed_in_user_gets_a_code_and_redeems_it_once(client: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    answer = code_for(client, verifier)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["the-state"]
    tokens = redeem(client, query["code"][0], verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert {"access_token", "refresh_token", "id_token"} <= set(body)
    again = redeem(client, query["code"][0], verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert "AADSTS70008" in again.json()["error_description"]


def test_a_wrong_verifier_is_refused(client: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = parse_qs(urlsplit(code_for(client, verifier).headers["location"]).query)["code"][0]
    refused = redeem(client, code, secrets.token_urlsafe(48))
    assert refused.status_code == 400
    assert "AADSTS501481" in refused.json()["error_description"]
    assert redeem(client, code, verifier).status_code == 400  # burnt by the failed attempt


def test_another_redirect_uri_is_refused_at_redemption(client: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = parse_qs(urlsplit(code_for(client, verifier).headers["location"]).query)["code"][0]
    assert redeem(client, code, verifier, "http://localhost:5000/portal/other").status_code == 400


def test_a_wrong_password_gives_no_code(client: TestClient) -> None:
    answer = code_for(client, secrets.token_urlsafe(48), password="not-it-at-all")
    assert answer.status_code == 400
    assert "not right" in answer.text
    assert "location" not in answer.headers


def test_unregistered_clients_and_redirects_get_no_page(client: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    for overrides in (
        {"client_id": "stranger"},
        {"redirect_uri": "http://evil.example/portal/auth/callback"},
    ):
        answer = authorize(client, verifier, **overrides)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert "not registered" in answer.text


def test_pkce_is_required_with_s256(client: TestClient) -> None:
    for overrides in ({"code_challenge_method": "plain"}, {"code_challenge": ""}):
        answer = authorize(client, "x" * 43, **overrides)
        assert answer.status_code == 303
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["error"] == ["invalid_request"]
        assert query["state"] == ["the-state"]


def test_discovery_names_the_grant_and_s256(client: TestClient) -> None:
    document = client.get("/organizations/v2.0/.well-known/openid-configuration").json()
    assert "authorization_code" in document["grant_types_supported"]
    assert document["code_challenge_methods_supported"] == ["S256"]
