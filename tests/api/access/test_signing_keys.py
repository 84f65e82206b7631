"""Signing keys: persisted, published as JWKS, rotatable without breaking unexpired tokens; and
refresh-token payloads the Azure SDK can decode with standard base64."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from azure.containerregistry._helpers import _parse_exp_time

from berth.app import BerthApp, build_app
from berth.config import Settings
from tests.api.access.wire import (
    BASE_URL,
    TestClient,
    access_token,
    bearer,
    exchange,
    header,
    payload,
    sp_directory_token,
    token_get,
    user_directory_token,
)
from tests.support.access_setup import NULL_GUID, AccessSetup


def jwks(client: TestClient, tenant: str) -> dict[str, dict[str, str]]:
    discovery = client.get(f"/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert discovery["jwks_uri"] == f"http://localhost:5000/{tenant}/discovery/v2.0/keys"
    response = client.get(f"/{tenant}/discovery/v2.0/keys")
    assert response.status_code == 200
    return {key["kid"]: key for key in response.json()["keys"]}


def verify_with_jwks(token: str, keys: dict[str, dict[str, str]]) -> dict[str, object]:
    key = jwt.PyJWK(keys[header(token)["kid"]])
    claims: dict[str, object] = jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})
    return claims


def test_jwks_publishes_the_signing_key(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    keys = jwks(client, setup.tenant_id)
    token = access_token(client, *admin, "repository:hello:pull")

    assert list(keys) == [header(token)["kid"]]
    assert keys[header(token)["kid"]]["kty"] == "RSA"
    assert keys[header(token)["kid"]]["alg"] == "RS256"
    assert "d" not in keys[header(token)["kid"]]  # public parts only
    assert verify_with_jwks(token, keys)["sub"] == "default"


def test_rotation_keeps_old_tokens_valid_and_publishes_both_keys(
    client: TestClient, app: BerthApp, setup: AccessSetup, admin: tuple[str, str], pushed: dict[str, str]
) -> None:
    old = access_token(client, *admin, "repository:hello:pull")
    sp = setup.service_principal()
    old_refresh = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]

    new_kid = app.services.auth.keyring.rotate()

    new = access_token(client, *admin, "repository:hello:pull")
    assert header(new)["kid"] == new_kid != header(old)["kid"]
    keys = jwks(client, setup.tenant_id)
    assert set(keys) == {header(old)["kid"], new_kid}
    verify_with_jwks(old, keys)
    verify_with_jwks(new, keys)
    for token in (old, new):
        assert client.get("/v2/hello/tags/list", headers=bearer(token)).status_code == 200
    assert token_get(client, NULL_GUID, old_refresh, "repository:hello:pull").status_code == 200


def test_keys_survive_a_restart(settings: Settings, client: TestClient, admin: tuple[str, str]) -> None:
    token = access_token(client, *admin)
    restarted = build_app(settings)
    with TestClient(restarted, base_url=BASE_URL) as again:
        assert again.get("/v2/", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("align", ["", "a", "ab"], ids=["offset0", "offset1", "offset2"])
@pytest.mark.parametrize(
    "local",
    [
        "dev",
        "o~o?x>y",  # the characters whose base64url differs from base64
        "\u00fc~ser?",
        "del\x7fete",
        ">>>???~~~",
    ],
    ids=["plain", "mixed", "non-ascii", "del", "only-unsafe"],
)
def test_refresh_token_payload_decodes_with_standard_base64_as_the_sdk_does(
    client: TestClient, setup: AccessSetup, local: str, align: str
) -> None:
    """Each unsafe character is tried at all three positions of a base64 quantum."""
    user = setup.user(f"{align}{local}@corp.test")
    refresh = exchange(client, user_directory_token(client, setup.tenant_id, user.upn, user.password)).json()[
        "refresh_token"
    ]
    value = refresh.split(".")[1]

    # The SDK pads with len % 4 and uses the standard alphabet.
    standard = json.loads(base64.b64decode(value + "=" * (len(value) % 4)).decode("utf-8"))

    assert "-" not in value
    assert "_" not in value
    assert standard == payload(refresh)
    assert _parse_exp_time(refresh) == standard["exp"]
    assert standard["exp"] > time.time() + 3 * 3600 - 60


def test_null_guid_offline_refresh_token_also_decodes(client: TestClient, setup: AccessSetup) -> None:
    sp = setup.service_principal()
    first = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]
    response = token_get(client, NULL_GUID, first, offline=True)
    refresh = response.json()["refresh_token"]
    assert _parse_exp_time(refresh) == payload(refresh)["exp"]
