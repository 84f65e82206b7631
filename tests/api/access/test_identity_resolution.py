"""Basic credentials resolve in ACR's order, and fail with ACR's messages.

null GUID → repository-scoped token name → registry name (admin) → service principal app id →
otherwise ``Application not registered with AAD.``. A wrong secret for a token or service
principal looks exactly like an unknown name, so callers cannot probe for names.
"""

from __future__ import annotations

import time

import pytest

from tests.api.access.wire import (
    NOT_REGISTERED,
    UNAUTHORIZED_MESSAGE,
    TestClient,
    basic,
    error_of,
    payload,
    token_get,
    token_post,
)
from tests.support.access_setup import AccessSetup


def assert_refused(response: object, message: str) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 401, response.text
    entry = error_of(response)
    assert entry["code"] == "UNAUTHORIZED"
    assert entry["message"] == message


# --- order ------------------------------------------------------------------------------------


def test_a_token_named_like_the_registry_wins_over_the_admin_user(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    token = setup.token("default", "_repositories_pull")

    response = token_get(client, "default", token.password1, "repository:a:pull,push")

    claims = payload(response.json()["access_token"])
    assert claims["berth_kind"] == "token"
    assert claims["access"] == [{"type": "repository", "name": "a", "actions": ["pull"]}]
    # The admin password is now checked against the token, and fails like any wrong secret.
    assert_refused(token_get(client, *admin), NOT_REGISTERED)


def test_a_token_named_like_an_application_id_wins_over_the_service_principal(
    client: TestClient, setup: AccessSetup
) -> None:
    sp = setup.service_principal(role="AcrPush")
    token = setup.token(sp.app_id, "_repositories_pull")

    response = token_get(client, sp.app_id, token.password1, "repository:a:pull,push")

    assert payload(response.json()["access_token"])["berth_kind"] == "token"
    assert_refused(token_get(client, sp.app_id, sp.secret), NOT_REGISTERED)


def test_the_registry_name_is_matched_case_insensitively(client: TestClient, admin: tuple[str, str]) -> None:
    response = token_get(client, "DEFAULT", admin[1], "repository:a:pull")
    assert response.status_code == 200, response.text
    assert payload(response.json()["access_token"])["berth_kind"] == "admin"


def test_both_admin_passwords_work(client: TestClient, setup: AccessSetup) -> None:
    password, password2 = setup.enable_admin()
    assert token_get(client, "default", password).status_code == 200
    assert token_get(client, "default", password2).status_code == 200


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username",
    [
        "someone",  # neither token, registry nor GUID
        "admin@localhost",  # a directory user: users cannot use Basic credentials
        "6f1c0a0e-3a7b-4d0e-9a55-1f2e3d4c5b6a",  # a GUID no service principal has
    ],
)
def test_unknown_names_are_not_registered_with_aad(client: TestClient, username: str) -> None:
    assert_refused(token_get(client, username, "whatever"), NOT_REGISTERED)


def test_wrong_service_principal_secret_looks_like_an_unknown_name(
    client: TestClient, setup: AccessSetup
) -> None:
    sp = setup.service_principal()
    assert_refused(token_get(client, sp.app_id, sp.secret + "x"), NOT_REGISTERED)


def test_wrong_token_password_looks_like_an_unknown_name(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("pulltoken", "_repositories_pull")
    assert_refused(token_get(client, token.name, "wrong"), NOT_REGISTERED)


def test_wrong_admin_password_is_authentication_required(client: TestClient, admin: tuple[str, str]) -> None:
    assert_refused(token_get(client, admin[0], "wrong"), UNAUTHORIZED_MESSAGE)


def test_disabled_admin_user_is_refused(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    setup.disable_admin()
    assert_refused(token_get(client, *admin), UNAUTHORIZED_MESSAGE)


def test_basic_credentials_on_the_data_plane_fail_the_same_way(
    client: TestClient, setup: AccessSetup
) -> None:
    response = client.get("/v2/", headers=basic("someone", "x"))
    assert response.status_code == 401
    assert error_of(response)["message"] == NOT_REGISTERED
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="http://localhost:5000/oauth2/token",service="localhost:5000"'
    )


# --- expiry and disabling take effect at once --------------------------------------------------


def test_expired_service_principal_secret_is_refused(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()
    assert token_get(client, sp.app_id, sp.secret).status_code == 200

    setup.expire_secret(sp)

    assert_refused(token_get(client, sp.app_id, sp.secret), UNAUTHORIZED_MESSAGE)
    directory = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp.app_id,
            "client_secret": sp.secret,
            "scope": "https://containerregistry.azure.net/.default",
        },
    )
    assert directory.status_code == 401
    assert directory.json()["error"] == "invalid_client"
    assert "AADSTS7000222" in directory.json()["error_description"]


def test_another_unexpired_secret_keeps_working(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()
    newer = setup.add_secret(sp)
    setup.expire_secret(sp)

    assert token_get(client, newer.app_id, newer.secret).status_code == 200
    assert token_get(client, sp.app_id, sp.secret).status_code == 401


def test_expired_token_password_is_refused_and_the_other_still_works(
    client: TestClient, setup: AccessSetup
) -> None:
    token = setup.token("pulltoken", "_repositories_pull")
    assert token_get(client, token.name, token.password1).status_code == 200

    setup.set_token_password_expiry(token, "password1", time.time() - 1)

    assert_refused(token_get(client, token.name, token.password1), UNAUTHORIZED_MESSAGE)
    assert token_get(client, token.name, token.password2).status_code == 200


def test_a_token_password_with_a_future_expiry_works(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("pulltoken", "_repositories_pull", expires_at=time.time() + 3600)
    assert token_get(client, token.name, token.password1).status_code == 200


def test_disabled_token_is_refused(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("pulltoken", "_repositories_pull")
    assert token_get(client, token.name, token.password1).status_code == 200

    setup.set_token_enabled(token, False)

    assert_refused(token_get(client, token.name, token.password1), UNAUTHORIZED_MESSAGE)
    assert_refused(
        token_post(client, grant_type="password", username=token.name, password=token.password2),
        UNAUTHORIZED_MESSAGE,
    )
    assert client.get("/v2/", headers=basic(token.name, token.password1)).status_code == 401


def test_a_token_created_disabled_is_refused(client: TestClient, setup: AccessSetup) -> None:
    token = setup.token("offtoken", "_repositories_pull", enabled=False)
    assert token_get(client, token.name, token.password1).status_code == 401


def test_disabled_service_principal_is_refused(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()
    assert token_get(client, sp.app_id, sp.secret).status_code == 200

    setup.set_enabled(sp.object_id, False)

    assert_refused(token_get(client, sp.app_id, sp.secret), UNAUTHORIZED_MESSAGE)
    assert client.get("/v2/", headers=basic(sp.app_id, sp.secret)).status_code == 401


def test_service_principal_without_a_role_gets_permissions_failed(
    client: TestClient, setup: AccessSetup
) -> None:
    sp = setup.service_principal(role=None)
    response = token_get(client, sp.app_id, sp.secret, "repository:a:pull")
    assert response.status_code == 403
    assert response.json() == {"errors": [{"code": "DENIED", "message": "retrieving permissions failed"}]}
