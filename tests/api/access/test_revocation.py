"""Already-issued access tokens of a disabled or deleted identity stop working within seconds.

The access service caches identity checks for :data:`berth.access.service.STATUS_SECONDS`; after
that, every bearer token is re-checked against the identity's current state.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from berth.access.service import STATUS_SECONDS
from tests.api.access.wire import TestClient, bearer, exchange, sp_directory_token, token_get, token_post
from tests.support.access_setup import NULL_GUID, AccessSetup

MARGIN = 1.5  # plus the registry cache (1 s) for registry properties


def pull_token(client: TestClient, username: str | None, password: str | None) -> str:
    response = token_get(client, username, password, "repository:hello:pull")
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def seconds_until_refused(request: Callable[[], httpx.Response], limit: float) -> float:
    """Poll until the request stops succeeding; returns how long that took."""
    started = time.monotonic()
    while True:
        response = request()
        if response.status_code in (401, 403):
            return time.monotonic() - started
        assert response.status_code == 200, response.text
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"the token still worked after {elapsed:.1f} s"
        time.sleep(0.1)


def tags_with(client: TestClient, token: str) -> Callable[[], httpx.Response]:
    return lambda: client.get("/v2/hello/tags/list", headers=bearer(token))


def test_disabled_service_principal(client: TestClient, setup: AccessSetup, pushed: dict[str, str]) -> None:
    sp = setup.service_principal()
    token = pull_token(client, sp.app_id, sp.secret)
    assert tags_with(client, token)().status_code == 200

    setup.set_enabled(sp.object_id, False)

    assert seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN) <= STATUS_SECONDS + MARGIN
    response = tags_with(client, token)()
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_deleted_service_principal(client: TestClient, setup: AccessSetup, pushed: dict[str, str]) -> None:
    sp = setup.service_principal()
    token = pull_token(client, sp.app_id, sp.secret)
    setup.delete_identity(sp.object_id)
    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN)


def test_re_enabling_does_not_revive_tokens_issued_before_the_disable(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal()
    token = pull_token(client, sp.app_id, sp.secret)
    setup.set_enabled(sp.object_id, False)
    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN)

    setup.set_enabled(sp.object_id, True)
    time.sleep(STATUS_SECONDS + 0.2)

    assert tags_with(client, token)().status_code == 401
    assert tags_with(client, pull_token(client, sp.app_id, sp.secret))().status_code == 200


def test_disabled_user_and_their_refresh_token(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    user = setup.user("dev@corp.test")
    directory_token = client.post(
        f"/{setup.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": user.upn,
            "password": user.password,
            "scope": "https://containerregistry.azure.net/.default",
        },
    ).json()["access_token"]
    refresh = exchange(client, directory_token).json()["refresh_token"]
    token = token_post(
        client, grant_type="refresh_token", refresh_token=refresh, scope="repository:hello:pull"
    ).json()["access_token"]

    assert tags_with(client, token)().status_code == 200

    setup.set_enabled(user.object_id, False)

    # New tokens are refused at once; the access token already issued within seconds.
    again = token_post(
        client, grant_type="refresh_token", refresh_token=refresh, scope="repository:hello:pull"
    )
    assert again.status_code == 401
    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN)


def test_disabled_and_deleted_scoped_tokens(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    disabled = setup.token("token-one", "_repositories_pull")
    deleted = setup.token("token-two", "_repositories_pull")
    token_one = pull_token(client, disabled.name, disabled.password1)
    token_two = pull_token(client, deleted.name, deleted.password1)

    setup.set_token_enabled(disabled, False)
    setup.delete_token(deleted)

    seconds_until_refused(tags_with(client, token_one), STATUS_SECONDS + MARGIN)
    seconds_until_refused(tags_with(client, token_two), STATUS_SECONDS + MARGIN)


def test_disabled_admin_user(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str], pushed: dict[str, str]
) -> None:
    token = pull_token(client, *admin)
    setup.disable_admin()
    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN)


def test_removed_role_assignment(client: TestClient, setup: AccessSetup, pushed: dict[str, str]) -> None:
    sp = setup.service_principal(role=None)
    assignment = setup.assign(sp.object_id, "AcrPull", setup.registry_id())
    refresh = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]
    token = token_post(
        client, grant_type="refresh_token", refresh_token=refresh, scope="repository:hello:pull"
    ).json()["access_token"]

    assert tags_with(client, token)().status_code == 200

    setup.unassign(assignment)

    again = token_post(
        client, grant_type="refresh_token", refresh_token=refresh, scope="repository:hello:pull"
    )
    assert again.status_code == 403
    assert again.json() == {"errors": [{"code": "DENIED", "message": "retrieving permissions failed"}]}
    with_basic = token_get(client, NULL_GUID, refresh, "repository:hello:pull")
    assert with_basic.status_code == 403
    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN)


def test_anonymous_pull_turned_off(client: TestClient, setup: AccessSetup, pushed: dict[str, str]) -> None:
    setup.set_anonymous_pull(True)
    token = pull_token(client, None, None)
    assert tags_with(client, token)().status_code == 200

    setup.set_anonymous_pull(False)

    seconds_until_refused(tags_with(client, token), STATUS_SECONDS + MARGIN + 1.0)


def test_downgraded_role_limits_an_issued_token(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    """AcrPush replaced by AcrPull: an access token issued with push loses push within seconds."""
    sp = setup.service_principal(role=None)
    push = setup.assign(sp.object_id, "AcrPush", setup.registry_id())
    setup.assign(sp.object_id, "AcrPull", setup.registry_id())
    token = token_get(client, sp.app_id, sp.secret, "repository:hello:pull,push").json()["access_token"]

    def start_upload() -> httpx.Response:
        response: httpx.Response = client.post("/v2/hello/blobs/uploads/", headers=bearer(token))
        if response.status_code == 202:
            client.delete(response.headers["Location"], headers=bearer(token))
            return httpx.Response(200)
        return response

    assert start_upload().status_code == 200
    setup.unassign(push)
    seconds_until_refused(start_upload, STATUS_SECONDS + MARGIN)
    refused = client.post("/v2/hello/blobs/uploads/", headers=bearer(token))
    assert refused.status_code == 401
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert tags_with(client, token)().status_code == 200  # pull is still granted
