"""A repeated token request within seconds gets the token signed before, never a stale grant.

See :mod:`berth.access.issued_cache`: the identity and its permissions are resolved on every
request; only the RSA signature is reused.
"""

from __future__ import annotations

from tests.api.access.test_revocation import pull_token
from tests.api.access.wire import TestClient, payload, token_get
from tests.support.access_setup import AccessSetup


def test_same_request_same_token_with_its_original_expiry(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal()
    first = pull_token(client, sp.app_id, sp.secret)
    second = pull_token(client, sp.app_id, sp.secret)
    assert second == first
    assert payload(second)["exp"] == payload(first)["exp"]
    assert payload(second)["exp"] - payload(second)["iat"] == 75 * 60


def test_different_scopes_get_different_tokens(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal(role="AcrPush")
    pull = token_get(client, sp.app_id, sp.secret, "repository:hello:pull").json()["access_token"]
    push = token_get(client, sp.app_id, sp.secret, "repository:hello:pull,push").json()["access_token"]
    other = token_get(client, sp.app_id, sp.secret, "repository:other:pull").json()["access_token"]
    assert len({pull, push, other}) == 3
    assert payload(push)["access"] == [{"type": "repository", "name": "hello", "actions": ["pull", "push"]}]


def test_a_disabled_identity_gets_no_cached_token(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal()
    pull_token(client, sp.app_id, sp.secret)
    setup.set_enabled(sp.object_id, False)
    assert token_get(client, sp.app_id, sp.secret, "repository:hello:pull").status_code == 401


def test_a_disabled_scoped_token_gets_no_cached_token(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    token = setup.token("reuse-token", "_repositories_pull")
    pull_token(client, token.name, token.password1)
    setup.set_token_enabled(token, False)
    assert token_get(client, token.name, token.password1, "repository:hello:pull").status_code == 401


def test_a_removed_role_is_not_granted_from_the_cache(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal(role="AcrPull")
    push_role = setup.assign(sp.object_id, "AcrPush", setup.registry_id())
    scope = "repository:hello:pull,push"
    before = token_get(client, sp.app_id, sp.secret, scope).json()["access_token"]
    assert payload(before)["access"][0]["actions"] == ["pull", "push"]

    setup.unassign(push_role)

    after = token_get(client, sp.app_id, sp.secret, scope).json()["access_token"]
    assert after != before
    assert payload(after)["access"][0]["actions"] == ["pull"]


def test_re_enabled_identity_gets_a_token_issued_after_the_re_enable(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal()
    before = pull_token(client, sp.app_id, sp.secret)
    setup.set_enabled(sp.object_id, False)
    setup.set_enabled(sp.object_id, True)
    after = pull_token(client, sp.app_id, sp.secret)
    assert after != before
    assert payload(after)["berth_iat"] >= payload(before)["berth_iat"]
