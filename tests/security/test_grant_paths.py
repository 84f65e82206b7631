"""Every grant path, tried with the wrong kind of token (issue 8, finding 3 and its audit).

The classes of mistake: token-type confusion (an access token used where a refresh token,
password or directory token belongs, and the reverse), audience/registry confusion, lifetime
extension and scope widening. docs/security.md (section ``access``) lists each path with what
it accepts, what it refuses and the test here that checks it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from berth.access import secrets
from berth.app import BerthApp, build_app
from tests.api.access.wire import (
    TestClient,
    basic,
    bearer,
    exchange,
    payload,
    sp_directory_token,
    token_get,
    token_post,
)
from tests.security.secure_app import BOOTSTRAP_PASSWORD, cheap_hasher, clients_of, secure_settings
from tests.support.access_setup import NULL_GUID, AccessSetup

OTHER_HOST = "otherreg.localhost:5000"
REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_HASHER", cheap_hasher())


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    return build_app(secure_settings(tmp_path, database_url))


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with clients_of(app) as clients:
        yield clients("testclient")


@pytest.fixture
def setup(app: BerthApp, client: TestClient) -> AccessSetup:
    return AccessSetup.for_app(app)


@pytest.fixture
def admin(setup: AccessSetup) -> tuple[str, str]:
    password, _ = setup.enable_admin()
    return "default", password


@pytest.fixture
def pull_only_access_token(client: TestClient, admin: tuple[str, str]) -> str:
    """What a CI job holding only ``pull`` would have: an admin-issued, pull-only access token."""
    response = token_get(client, *admin, "repository:hello:pull")
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    assert payload(token)["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    return token


@pytest.fixture
def refresh_token(client: TestClient, setup: AccessSetup) -> str:
    """An ACR refresh token of a service principal with AcrPush, from /oauth2/exchange."""
    sp = setup.service_principal(role="AcrPush")
    response = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


def directory_tokens(client: TestClient, setup: AccessSetup) -> dict[str, str]:
    """A user's directory access, refresh and ID tokens (password grant)."""
    user = setup.user("dev@corp.test", role="AcrPush")
    response = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": user.upn,
            "password": user.password,
            "scope": REGISTRY_SCOPE,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: str(body[name]) for name in ("access_token", "refresh_token", "id_token")}


def refused(response: httpx.Response, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert "access_token" not in response.text
    assert "refresh_token" not in response.text


# --- the null GUID's password: refresh tokens only -------------------------------------------


def test_an_access_token_is_not_a_password_at_the_token_endpoint(
    client: TestClient, pull_only_access_token: str
) -> None:
    """The finding: a pull-only access token became pull+push plus a 3-hour refresh token."""
    widened = token_get(client, NULL_GUID, pull_only_access_token, "repository:hello:pull,push", offline=True)
    refused(widened)
    refused(
        token_post(
            client,
            grant_type="password",
            username=NULL_GUID,
            password=pull_only_access_token,
            scope="repository:hello:push",
        )
    )


def test_an_access_token_is_not_a_password_on_data_calls(
    client: TestClient, pull_only_access_token: str
) -> None:
    for path in ("/v2/", "/v2/_catalog", "/acr/v1/_catalog"):
        response = client.get(path, headers=basic(NULL_GUID, pull_only_access_token))
        assert response.status_code == 401, (path, response.text)
    upload = client.post("/v2/hello/blobs/uploads/", headers=basic(NULL_GUID, pull_only_access_token))
    assert upload.status_code == 401, upload.text


def test_a_refresh_token_is_the_null_guids_password(client: TestClient, refresh_token: str) -> None:
    """The control: what the null GUID is for still works, on both paths."""
    assert client.get("/v2/", headers=basic(NULL_GUID, refresh_token)).status_code == 200
    issued = token_get(client, NULL_GUID, refresh_token, "repository:hello:push")
    assert issued.status_code == 200, issued.text
    assert payload(issued.json()["access_token"])["access"][0]["actions"] == ["push"]


def test_directory_tokens_are_not_the_null_guids_password(client: TestClient, setup: AccessSetup) -> None:
    for token in directory_tokens(client, setup).values():
        refused(token_get(client, NULL_GUID, token, "repository:hello:pull"))
        assert client.get("/v2/", headers=basic(NULL_GUID, token)).status_code == 401


# --- lifetime: nothing issued outlives the credential it was issued for -----------------------


def _short_lived(app: BerthApp, refresh_token: str, seconds: int) -> tuple[str, int]:
    claims: dict[str, Any] = payload(refresh_token)
    claims["exp"] = int(time.time()) + seconds
    return app.services.auth.keyring.sign(claims), claims["exp"]


def test_offline_token_does_not_extend_a_refresh_token(
    client: TestClient, app: BerthApp, refresh_token: str
) -> None:
    short, expires = _short_lived(app, refresh_token, 600)

    response = token_get(client, NULL_GUID, short, "repository:hello:pull", offline=True)

    assert response.status_code == 200, response.text
    assert payload(response.json()["refresh_token"])["exp"] <= expires
    assert payload(response.json()["access_token"])["exp"] <= expires


def test_the_refresh_grant_issues_no_access_token_beyond_the_refresh_token(
    client: TestClient, app: BerthApp, refresh_token: str
) -> None:
    short, expires = _short_lived(app, refresh_token, 600)

    response = token_post(
        client, grant_type="refresh_token", refresh_token=short, scope="repository:hello:pull"
    )

    assert response.status_code == 200, response.text
    assert payload(response.json()["access_token"])["exp"] <= expires


# --- /oauth2/token's refresh grant and bearer data calls: the right token type only ------------


def test_the_refresh_grant_refuses_every_other_kind_of_token(
    client: TestClient, setup: AccessSetup, pull_only_access_token: str
) -> None:
    presented = [
        pull_only_access_token,
        *directory_tokens(client, setup).values(),
    ]
    for token in presented:
        refused(
            token_post(client, grant_type="refresh_token", refresh_token=token, scope="repository:hello:push")
        )


def test_bearer_data_calls_take_access_tokens_only(
    client: TestClient, setup: AccessSetup, refresh_token: str
) -> None:
    presented = [refresh_token, *directory_tokens(client, setup).values()]
    for token in presented:
        assert client.get("/v2/", headers=bearer(token)).status_code == 401


# --- /oauth2/exchange: directory tokens only, of the right type -------------------------------


def test_exchange_refuses_acr_tokens(
    client: TestClient, refresh_token: str, pull_only_access_token: str
) -> None:
    for token in (refresh_token, pull_only_access_token):
        for grant_type in ("access_token", "access_token_refresh_token"):
            refused(exchange(client, token, grant_type=grant_type))
        refused(exchange(client, "", grant_type="refresh_token", refresh_token=token))


def test_exchange_refuses_a_directory_token_of_the_other_type(client: TestClient, setup: AccessSetup) -> None:
    tokens = directory_tokens(client, setup)

    refused(exchange(client, tokens["refresh_token"]))
    refused(exchange(client, "", grant_type="refresh_token", refresh_token=tokens["access_token"]))
    # The controls: each type where it belongs.
    assert exchange(client, tokens["access_token"]).status_code == 200
    refreshed = exchange(client, "", grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text


# --- audience: one registry's tokens are nothing to another ----------------------------------


def test_a_refresh_token_of_one_registry_is_not_a_password_at_another(
    client: TestClient, setup: AccessSetup, refresh_token: str
) -> None:
    setup.create_registry("otherreg")
    other = {"Host": OTHER_HOST}

    assert client.get("/v2/", headers={**basic(NULL_GUID, refresh_token), **other}).status_code == 401
    response = client.get(
        "/oauth2/token",
        params={"service": OTHER_HOST, "scope": "repository:hello:pull"},
        headers={**basic(NULL_GUID, refresh_token), **other},
    )
    refused(response)
    refused(
        client.post(
            "/oauth2/token",
            data={"grant_type": "refresh_token", "service": OTHER_HOST, "refresh_token": refresh_token},
            headers=other,
        )
    )


# --- the directory's token endpoint --------------------------------------------------------


def test_the_directory_refresh_grant_takes_directory_refresh_tokens_only(
    client: TestClient, setup: AccessSetup, refresh_token: str, pull_only_access_token: str
) -> None:
    tokens = directory_tokens(client, setup)
    for token in (tokens["access_token"], refresh_token, pull_only_access_token):
        response = client.post(
            f"/{setup.tenant_id}/oauth2/v2.0/token",
            data={"grant_type": "refresh_token", "refresh_token": token, "scope": REGISTRY_SCOPE},
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_grant"
    control = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": REGISTRY_SCOPE,
        },
    )
    assert control.status_code == 200, control.text


def test_directory_tokens_of_another_tenant_are_refused(
    client: TestClient, app: BerthApp, setup: AccessSetup
) -> None:
    tokens = directory_tokens(client, setup)
    foreign = payload(tokens["access_token"]) | {"tid": "11111111-1111-1111-1111-111111111111"}
    forged = app.services.auth.keyring.sign(foreign)

    refused(exchange(client, forged))


def test_acr_tokens_are_not_management_tokens(
    client: TestClient, setup: AccessSetup, refresh_token: str, pull_only_access_token: str
) -> None:
    path = f"/subscriptions/{setup.tenancy.subscription_id}/providers/Microsoft.ContainerRegistry/registries"
    # ACR tokens, and directory tokens for the registry audience or of another type, are refused.
    for token in (refresh_token, pull_only_access_token, *directory_tokens(client, setup).values()):
        response = client.get(path, params={"api-version": "2023-07-01"}, headers=bearer(token))
        assert response.status_code == 401, response.text
    # The control: a directory token for the management audience is what it takes.
    owner = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": "admin@localhost",
            "password": BOOTSTRAP_PASSWORD,
            "scope": "https://management.azure.com/.default",
        },
    )
    assert owner.status_code == 200, owner.text
    managed = client.get(
        path, params={"api-version": "2023-07-01"}, headers=bearer(owner.json()["access_token"])
    )
    assert managed.status_code == 200, managed.text
