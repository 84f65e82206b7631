"""``POST /oauth2/exchange``: a directory token for an identity with a role → an ACR refresh token."""

from __future__ import annotations

import json

from berth.access.tokens import REFRESH_TOKEN_SECONDS
from berth.config import Settings
from tests.api.access.wire import (
    TestClient,
    error_of,
    exchange,
    payload,
    sp_directory_token,
    token_post,
    user_directory_token,
)
from tests.support.access_setup import AccessSetup

PERMISSIONS_FAILED = {"errors": [{"code": "DENIED", "message": "retrieving permissions failed"}]}


def test_service_principal_token_becomes_a_refresh_token(
    client: TestClient, setup: AccessSetup, settings: Settings
) -> None:
    sp = setup.service_principal(role="AcrPull")
    directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)

    response = exchange(client, directory_token)

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"refresh_token"}
    claims = payload(response.json()["refresh_token"])
    assert claims["grant_type"] == "refresh_token"
    assert claims["iss"] == "Azure Container Registry"
    assert claims["aud"] == settings.login_server("default")
    assert claims["tenant"] == setup.tenant_id
    assert claims["sub"] == sp.app_id
    assert claims["exp"] - claims["iat"] == REFRESH_TOKEN_SECONDS
    assert claims["permissions"] == {"Actions": ["*"], "NotActions": None}


def test_user_token_with_the_tenant_field_as_az_sends_it(client: TestClient, setup: AccessSetup) -> None:
    user = setup.user("dev@corp.test", role="AcrPush")
    directory_token = user_directory_token(client, setup.tenant_id, user.upn, user.password)

    response = exchange(client, directory_token, tenant=setup.tenant_id)

    assert response.status_code == 200, response.text
    refresh = response.json()["refresh_token"]
    assert payload(refresh)["sub"] == "dev@corp.test"
    token = token_post(
        client, grant_type="refresh_token", refresh_token=refresh, scope="repository:a:pull,push"
    )
    assert payload(token.json()["access_token"])["access"] == [
        {"type": "repository", "name": "a", "actions": ["pull", "push"]}
    ]


def test_a_directory_refresh_token_is_accepted_with_the_refresh_grant(
    client: TestClient, setup: AccessSetup
) -> None:
    user = setup.user("dev@corp.test", role="AcrPull")
    signed_in = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": user.upn,
            "password": user.password,
            "scope": "https://containerregistry.azure.net/.default",
        },
    )
    response = client.post(
        "/oauth2/exchange",
        data={
            "grant_type": "refresh_token",
            "service": "localhost:5000",
            "refresh_token": signed_in.json()["refresh_token"],
        },
    )
    assert response.status_code == 200, response.text


def test_management_audience_is_accepted(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role="AcrPull")
    response = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp.app_id,
            "client_secret": sp.secret,
            "scope": "https://management.azure.com/.default",
        },
    )
    assert exchange(client, response.json()["access_token"]).status_code == 200


def test_no_role_on_the_registry_is_403_retrieving_permissions_failed(
    client: TestClient, setup: AccessSetup
) -> None:
    sp = setup.service_principal(role=None)

    response = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret))

    assert response.status_code == 403
    assert json.loads(response.content) == PERMISSIONS_FAILED
    assert response.headers["content-type"].startswith("application/json")


def test_a_role_on_another_registry_does_not_count(client: TestClient, setup: AccessSetup) -> None:
    setup.create_registry("otherreg")
    sp = setup.service_principal(role="AcrPush", registry="otherreg")

    response = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret))

    assert response.status_code == 403
    assert json.loads(response.content) == PERMISSIONS_FAILED


def test_a_role_on_the_subscription_covers_the_registry(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role="Reader", scope=setup.tenancy.subscription_scope)
    response = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret))
    assert response.status_code == 200, response.text


def test_a_removed_role_is_refused_at_once(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role=None)
    assignment = setup.assign(sp.object_id, "AcrPull", setup.registry_id())
    directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)
    assert exchange(client, directory_token).status_code == 200

    setup.unassign(assignment)

    response = exchange(client, directory_token)
    assert response.status_code == 403
    assert json.loads(response.content) == PERMISSIONS_FAILED


def test_a_wrong_tenant_is_refused(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role="AcrPull")
    directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)
    response = exchange(client, directory_token, tenant="11111111-2222-3333-4444-555555555555")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_tokens_that_are_not_directory_access_tokens_are_refused(
    client: TestClient, setup: AccessSetup
) -> None:
    sp = setup.service_principal(role="AcrPull")
    refresh = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]
    for token in ("garbage", "a.b.c", refresh):
        response = exchange(client, token)
        assert response.status_code == 401, token
        assert error_of(response)["code"] == "UNAUTHORIZED"


def test_exchange_needs_a_token_and_a_known_grant(client: TestClient) -> None:
    assert client.post("/oauth2/exchange", data={"grant_type": "access_token"}).status_code == 400
    assert client.post("/oauth2/exchange", data={"grant_type": "password"}).status_code == 400


def test_a_disabled_identity_is_refused(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal(role="AcrPull")
    directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)
    setup.set_enabled(sp.object_id, False)

    response = exchange(client, directory_token)

    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
