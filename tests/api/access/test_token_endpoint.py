"""``/oauth2/token``: docker's GET with Basic credentials (or none), and the POST grants.

Every credential type of the seed gets an ACR access token here: admin user, service principal
(app id + secret), repository-scoped token, and the null GUID with an ACR refresh token.
"""

from __future__ import annotations

import re

from berth.access.tokens import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS
from berth.config import Settings
from tests.api.access.wire import (
    UNAUTHORIZED_MESSAGE,
    TestClient,
    error_of,
    exchange,
    header,
    payload,
    sp_directory_token,
    token_get,
    token_post,
)
from tests.support.access_setup import NULL_GUID, AccessSetup

LIBTRUST_KID = re.compile(r"^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$")


def refresh_token_for_sp(client: TestClient, setup: AccessSetup, role: str = "AcrPull") -> str:
    sp = setup.service_principal(role=role)
    response = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


def test_admin_basic_gets_an_acr_access_token(
    client: TestClient, admin: tuple[str, str], settings: Settings
) -> None:
    response = token_get(client, *admin, "repository:hello:pull")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token"}
    token = body["access_token"]
    assert header(token)["alg"] == "RS256"
    assert LIBTRUST_KID.match(header(token)["kid"])
    claims = payload(token)
    assert claims["iss"] == "Azure Container Registry"
    assert claims["aud"] == settings.login_server("default")
    assert claims["grant_type"] == "access_token"
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_SECONDS
    assert claims["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    assert claims["sub"] == "default"


def test_the_access_token_opens_the_data_plane(client: TestClient, admin: tuple[str, str]) -> None:
    token = token_get(client, *admin).json()["access_token"]
    assert payload(token)["access"] == []

    response = client.get("/v2/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {}


def test_service_principal_basic_gets_what_its_role_allows(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role="AcrPull")

    response = token_get(client, sp.app_id, sp.secret, "repository:hello:pull,push,delete")

    assert response.status_code == 200, response.text
    claims = payload(response.json()["access_token"])
    assert claims["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    assert claims["sub"] == sp.app_id
    assert claims["tenant"] == setup.tenant_id


def test_scoped_token_basic_gets_its_scope_map(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("pulltoken", "_repositories_pull")

    response = token_get(client, token.name, token.password2, "repository:any/repo:pull,push")

    assert response.status_code == 200, response.text
    claims = payload(response.json()["access_token"])
    assert claims["access"] == [{"type": "repository", "name": "any/repo", "actions": ["pull"]}]
    assert claims["sub"] == "pulltoken"


def test_scoped_token_never_gets_the_catalog(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("admintoken", "_repositories_admin")
    response = token_get(client, token.name, token.password1, "registry:catalog:*")
    assert payload(response.json()["access_token"])["access"] == [
        {"type": "registry", "name": "catalog", "actions": []}
    ]


def test_requested_repository_comes_first_and_every_scope_is_answered(
    client: TestClient, admin: tuple[str, str]
) -> None:
    response = token_get(
        client, *admin, "repository:zeta:pull", "repository:alpha:push", "registry:catalog:*"
    )
    assert payload(response.json()["access_token"])["access"] == [
        {"type": "repository", "name": "zeta", "actions": ["pull"]},
        {"type": "repository", "name": "alpha", "actions": ["push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]


def test_null_guid_with_a_refresh_token(client: TestClient, setup: AccessSetup) -> None:
    refresh = refresh_token_for_sp(client, setup)

    response = token_get(client, NULL_GUID, refresh, "repository:hello:pull")

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token"}
    claims = payload(response.json()["access_token"])
    assert claims["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]


def test_null_guid_with_an_access_token_is_refused(client: TestClient, admin: tuple[str, str]) -> None:
    """The null GUID's password is a refresh token; an access token is not (issue 8, finding 3)."""
    token = token_get(client, *admin).json()["access_token"]
    response = token_get(client, NULL_GUID, token, "repository:hello:pull")
    assert response.status_code == 401, response.text
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE


def test_null_guid_with_garbage_is_refused(client: TestClient) -> None:
    response = token_get(client, NULL_GUID, "not-a-token", "repository:hello:pull")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE


def test_offline_token_returns_a_refresh_token_for_the_null_guid_only(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    refresh = refresh_token_for_sp(client, setup)
    sp = setup.service_principal("other-sp", role="AcrPush")
    token = setup.token("pulltoken", "_repositories_pull")

    for username, password in (admin, (sp.app_id, sp.secret), (token.name, token.password1)):
        response = token_get(client, username, password, offline=True)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"access_token"}, username

    response = token_get(client, NULL_GUID, refresh, offline=True)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "refresh_token"}
    issued = payload(response.json()["refresh_token"])
    assert issued["grant_type"] == "refresh_token"
    # A refresh token cannot renew itself: the new one expires when the one presented does.
    assert issued["exp"] == payload(refresh)["exp"]
    assert issued["exp"] - issued["iat"] <= REFRESH_TOKEN_SECONDS
    # docker stores it as the identitytoken and later trades it with the refresh grant.
    again = token_post(
        client,
        grant_type="refresh_token",
        refresh_token=response.json()["refresh_token"],
        client_id="docker",
        scope="repository:hello:pull",
    )
    assert again.status_code == 200, again.text


def test_without_offline_token_the_null_guid_gets_no_refresh_token(
    client: TestClient, setup: AccessSetup
) -> None:
    response = token_get(client, NULL_GUID, refresh_token_for_sp(client, setup))
    assert set(response.json()) == {"access_token"}


def test_post_refresh_grant(client: TestClient, setup: AccessSetup) -> None:
    refresh = refresh_token_for_sp(client, setup, role="AcrPush")

    response = token_post(
        client,
        grant_type="refresh_token",
        refresh_token=refresh,
        scope="repository:hello:pull,push repository:other:pull",
    )

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token"}
    assert payload(response.json()["access_token"])["access"] == [
        {"type": "repository", "name": "hello", "actions": ["pull", "push"]},
        {"type": "repository", "name": "other", "actions": ["pull"]},
    ]


def test_post_refresh_grant_refuses_an_access_token(client: TestClient, admin: tuple[str, str]) -> None:
    token = token_get(client, *admin).json()["access_token"]
    response = token_post(client, grant_type="refresh_token", refresh_token=token, scope="repository:a:pull")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_post_refresh_grant_without_a_token_is_a_bad_request(client: TestClient) -> None:
    response = token_post(client, grant_type="refresh_token", scope="repository:a:pull")
    assert response.status_code == 400


def test_post_password_grant_for_admin_and_token(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    token = setup.token("pushtoken", "_repositories_push")
    for username, password, actions in (
        (*admin, ["pull", "push", "delete"]),
        (token.name, token.password1, ["pull", "push"]),
    ):
        response = token_post(
            client,
            grant_type="password",
            username=username,
            password=password,
            scope="repository:hello:pull,push,delete",
        )
        assert response.status_code == 200, response.text
        assert payload(response.json()["access_token"])["access"] == [
            {"type": "repository", "name": "hello", "actions": actions}
        ]


def test_post_password_grant_with_a_wrong_password(client: TestClient, admin: tuple[str, str]) -> None:
    response = token_post(
        client, grant_type="password", username=admin[0], password="wrong", scope="repository:a:pull"
    )
    assert response.status_code == 401
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE


def test_anonymous_password_grant_follows_anonymous_pull(client: TestClient, setup: AccessSetup) -> None:
    # What the Azure SDK sends with credential=None: no username, no password.
    refused = token_post(client, grant_type="password", scope="repository:hello:pull")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "UNAUTHORIZED"

    setup.set_anonymous_pull(True)
    response = token_post(client, grant_type="password", scope="repository:hello:pull,push")

    assert response.status_code == 200, response.text
    claims = payload(response.json()["access_token"])
    assert claims["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]


def test_anonymous_get(client: TestClient, setup: AccessSetup) -> None:
    refused = token_get(client, None, None, "repository:hello:pull")
    assert refused.status_code == 401
    assert error_of(refused)["message"] == UNAUTHORIZED_MESSAGE

    setup.set_anonymous_pull(True)
    response = token_get(client, None, None, "repository:hello:pull,push", "registry:catalog:*")
    assert response.status_code == 200, response.text
    assert payload(response.json()["access_token"])["access"] == [
        {"type": "repository", "name": "hello", "actions": ["pull"]},
        {"type": "registry", "name": "catalog", "actions": []},  # pull only (docs/security.md)
    ]


def test_unsupported_grant_type(client: TestClient) -> None:
    response = token_post(client, grant_type="client_credentials")
    assert response.status_code == 400


def test_a_service_that_is_not_this_registry_is_refused(client: TestClient, admin: tuple[str, str]) -> None:
    response = token_get(client, *admin, service="elsewhere.example.com")
    assert response.status_code == 400


def test_malformed_basic_header(client: TestClient) -> None:
    response = client.get("/oauth2/token", headers={"Authorization": "Basic !!!"})
    assert response.status_code == 401
