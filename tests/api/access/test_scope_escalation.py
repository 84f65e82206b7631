"""Nothing lets a caller exceed its grant: actions, repositories, registries and forged JWTs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from berth.app import BerthApp
from tests.api.access.wire import (
    NOT_REGISTERED,
    OCI_MANIFEST,
    REALM,
    SERVICE,
    TestClient,
    access_token,
    authorized,
    basic,
    bearer,
    error_of,
    exchange,
    header,
    payload,
    push_image,
    sp_directory_token,
)
from tests.support.access_setup import NULL_GUID, AccessSetup

OTHER_HOST = "otherreg.localhost:5000"


def insufficient(response: Any, scope: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}",service="{SERVICE}",scope="{scope}",error="insufficient_scope"'
    )


def invalid_token(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].endswith(',error="invalid_token"')
    assert error_of(response)["code"] == "UNAUTHORIZED"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def forge(header_claims: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header_claims).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


# --- actions ---------------------------------------------------------------------------------


def test_pull_only_token_cannot_push_or_delete(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    pull = setup.token("pulltoken", "_repositories_pull")
    token = access_token(client, pull.name, pull.password1, "repository:hello:pull,push,delete")
    assert payload(token)["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    auth = bearer(token)

    assert client.get("/v2/hello/manifests/v1", headers=auth).status_code == 200
    insufficient(client.post("/v2/hello/blobs/uploads/", headers=auth), "repository:hello:push")
    insufficient(
        client.put("/v2/hello/manifests/v2", headers={**auth, "Content-Type": OCI_MANIFEST}, content=b"{}"),
        "repository:hello:push",
    )
    insufficient(
        client.delete(f"/v2/hello/manifests/{pushed['hello']}", headers=auth), "repository:hello:delete"
    )
    insufficient(client.get("/v2/_catalog", headers=auth), "registry:catalog:*")
    # Basic credentials straight on the data plane are held to the same grant.
    insufficient(
        client.post("/v2/hello/blobs/uploads/", headers=basic(pull.name, pull.password1)),
        "repository:hello:push",
    )
    assert client.get("/v2/hello/manifests/v1", headers=basic(pull.name, pull.password1)).status_code == 200


def test_acrpull_service_principal_cannot_push(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal(role="AcrPull")
    token = access_token(client, sp.app_id, sp.secret, "repository:hello:pull,push")
    insufficient(client.post("/v2/hello/blobs/uploads/", headers=bearer(token)), "repository:hello:push")


def test_acrdelete_alone_cannot_pull(client: TestClient, setup: AccessSetup, pushed: dict[str, str]) -> None:
    sp = setup.service_principal(role="AcrDelete")
    token = access_token(client, sp.app_id, sp.secret, "repository:hello:pull,delete")
    assert payload(token)["access"] == [{"type": "repository", "name": "hello", "actions": ["delete"]}]
    insufficient(client.get("/v2/hello/manifests/v1", headers=bearer(token)), "repository:hello:pull")


def test_a_token_for_one_action_is_not_stretched_by_the_request(
    client: TestClient, admin: tuple[str, str], pushed: dict[str, str]
) -> None:
    token = access_token(client, *admin, "repository:hello:pull")
    insufficient(client.post("/v2/hello/blobs/uploads/", headers=bearer(token)), "repository:hello:push")


# --- repositories ----------------------------------------------------------------------------


def test_token_for_repository_a_cannot_read_repository_b(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    setup.scope_map("hello-only", ["repositories/hello/content/read", "repositories/hello/metadata/read"])
    scoped = setup.token("hellotoken", "hello-only")

    token = access_token(
        client, scoped.name, scoped.password1, "repository:hello:pull", "repository:other:pull"
    )

    assert payload(token)["access"] == [
        {"type": "repository", "name": "hello", "actions": ["pull"]},
        {"type": "repository", "name": "other", "actions": []},
    ]
    assert client.get("/v2/hello/manifests/v1", headers=bearer(token)).status_code == 200
    insufficient(client.get("/v2/other/manifests/v1", headers=bearer(token)), "repository:other:pull")
    insufficient(client.get("/v2/other/tags/list", headers=bearer(token)), "repository:other:pull")
    insufficient(
        client.get("/v2/other/manifests/v1", headers=basic(scoped.name, scoped.password1)),
        "repository:other:pull",
    )


@pytest.mark.parametrize("repository", ["hell", "hello2", "hello/sub", "other"])
def test_an_access_for_one_name_covers_no_other(
    client: TestClient, admin: tuple[str, str], repository: str
) -> None:
    token = access_token(client, *admin, "repository:hello:pull")
    insufficient(
        client.get(f"/v2/{repository}/tags/list", headers=bearer(token)), f"repository:{repository}:pull"
    )


def test_cross_repository_mount_needs_pull_on_the_source(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    setup.scope_map("target-push", ["repositories/target/content/read", "repositories/target/content/write"])
    scoped = setup.token("targettoken", "target-push")
    token = access_token(
        client, scoped.name, scoped.password1, "repository:target:push,pull", "repository:hello:pull"
    )
    response = client.post(
        "/v2/target/blobs/uploads/",
        params={"mount": pushed["hello"], "from": "hello"},
        headers=bearer(token),
    )
    assert response.status_code == 401
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


# --- registries --------------------------------------------------------------------------------


def test_token_minted_for_registry_a_is_rejected_by_registry_b(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str], pushed: dict[str, str]
) -> None:
    setup.create_registry("otherreg")
    token = access_token(client, *admin, "repository:hello:pull")
    assert client.get("/v2/hello/tags/list", headers=bearer(token)).status_code == 200

    response = client.get("/v2/hello/tags/list", headers={**bearer(token), "Host": OTHER_HOST})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="http://{OTHER_HOST}/oauth2/token",service="{OTHER_HOST}",'
        'scope="repository:hello:pull",error="invalid_token"'
    )
    # Nor can registry A's token be traded for one of registry B.
    traded = client.get(
        "/oauth2/token",
        params={"service": OTHER_HOST, "scope": "repository:hello:pull"},
        headers={**basic(NULL_GUID, token), "Host": OTHER_HOST},
    )
    assert traded.status_code == 401


def test_refresh_token_of_registry_a_is_rejected_by_registry_b(
    client: TestClient, setup: AccessSetup
) -> None:
    setup.create_registry("otherreg")
    sp = setup.service_principal(role="AcrPull", scope=setup.tenancy.subscription_scope)
    refresh = exchange(client, sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)).json()[
        "refresh_token"
    ]
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "service": OTHER_HOST,
            "scope": "repository:a:pull",
            "refresh_token": refresh,
        },
        headers={"Host": OTHER_HOST},
    )
    assert response.status_code == 401


def test_admin_of_registry_a_is_not_admin_of_registry_b(
    client: TestClient, setup: AccessSetup, admin: tuple[str, str]
) -> None:
    setup.create_registry("otherreg")
    setup.enable_admin("otherreg")
    response = client.get(
        "/oauth2/token", params={"service": OTHER_HOST}, headers={**basic(*admin), "Host": OTHER_HOST}
    )
    assert response.status_code == 401
    assert error_of(response)["message"] == NOT_REGISTERED


# --- forged and stale JWTs ---------------------------------------------------------------------


@pytest.fixture
def genuine(client: TestClient, admin: tuple[str, str], pushed: dict[str, str]) -> str:
    """A valid admin access token for pull on ``hello``."""
    token = access_token(client, *admin, "repository:hello:pull")
    assert client.get("/v2/hello/tags/list", headers=bearer(token)).status_code == 200
    return token


def push_claims(token: str) -> dict[str, Any]:
    claims = payload(token)
    claims["access"] = [{"type": "repository", "name": "hello", "actions": ["pull", "push", "delete"]}]
    return claims


def test_tampered_payload_is_rejected(client: TestClient, genuine: str) -> None:
    head, _, signature = genuine.split(".")
    tampered = f"{head}.{b64(json.dumps(push_claims(genuine)).encode())}.{signature}"
    invalid_token(client.post("/v2/hello/blobs/uploads/", headers=bearer(tampered)))
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(tampered)))


def test_tampered_signature_is_rejected(client: TestClient, genuine: str) -> None:
    head, body, signature = genuine.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(f"{head}.{body}.{flipped}")))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected(client: TestClient, genuine: str, alg: str) -> None:
    forged = forge({"alg": alg, "typ": "JWT", "kid": header(genuine)["kid"]}, push_claims(genuine))
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(forged)))
    invalid_token(client.post("/v2/hello/blobs/uploads/", headers=bearer(forged)))


def test_hs256_signed_with_the_public_key_is_rejected(
    client: TestClient, app: BerthApp, genuine: str
) -> None:
    public_key = app.services.auth.keyring.public_key_for(genuine)
    public_pem = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    head = {"alg": "HS256", "typ": "JWT", "kid": header(genuine)["kid"]}
    unsigned = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(push_claims(genuine)).encode())}"
    signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(f"{unsigned}.{b64(signature)}")))


def test_a_foreign_key_with_berths_key_id_is_rejected(client: TestClient, genuine: str) -> None:
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        push_claims(genuine), foreign, algorithm="RS256", headers={"kid": header(genuine)["kid"]}
    )
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(forged)))
    unknown_kid = jwt.encode(push_claims(genuine), foreign, algorithm="RS256", headers={"kid": "AAAA:BBBB"})
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(unknown_kid)))


def resign(app: BerthApp, genuine: str, **changes: Any) -> str:
    claims = payload(genuine)
    claims.update(changes)
    return app.services.auth.keyring.sign(claims)


def test_resigning_unchanged_claims_is_accepted(client: TestClient, app: BerthApp, genuine: str) -> None:
    """The control for the tests below: re-signing with berth's keyring itself is fine."""
    assert client.get("/v2/hello/tags/list", headers=bearer(resign(app, genuine))).status_code == 200


def test_expired_token_is_rejected(client: TestClient, app: BerthApp, genuine: str) -> None:
    now = int(time.time())
    expired = resign(app, genuine, iat=now - 7200, nbf=now - 7200, exp=now - 3600, berth_iat=now - 7200)
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(expired)))


def test_not_yet_valid_token_is_rejected(client: TestClient, app: BerthApp, genuine: str) -> None:
    now = int(time.time())
    future = resign(app, genuine, nbf=now + 3600, exp=now + 7200)
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(future)))


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "otherreg.localhost:5000"},
        {"aud": "https://containerregistry.azure.net"},
        {"rid": "0" * 32},
        {"iss": "someone else"},
        {"grant_type": "refresh_token"},
        {"berth_kind": "superuser"},
    ],
    ids=["audience", "directory-audience", "registry-id", "issuer", "refresh-token", "identity-kind"],
)
def test_tokens_with_wrong_claims_are_rejected(
    client: TestClient, app: BerthApp, genuine: str, changes: dict[str, Any]
) -> None:
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(resign(app, genuine, **changes))))


@pytest.mark.parametrize("missing", ["exp", "aud", "iss", "jti", "iat"])
def test_tokens_missing_required_claims_are_rejected(
    client: TestClient, app: BerthApp, genuine: str, missing: str
) -> None:
    claims = payload(genuine)
    del claims[missing]
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(app.services.auth.keyring.sign(claims))))


def test_a_directory_access_token_is_not_a_registry_token(
    client: TestClient, setup: AccessSetup, pushed: dict[str, str]
) -> None:
    sp = setup.service_principal(role="AcrPull")
    directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)
    invalid_token(client.get("/v2/hello/tags/list", headers=bearer(directory_token)))


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "Bearer"])
def test_garbage_bearer_values(client: TestClient, value: str) -> None:
    response = client.get("/v2/hello/tags/list", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401


def test_encoded_slashes_name_the_same_repository_and_need_its_scope(
    client: TestClient, admin: tuple[str, str], setup: AccessSetup
) -> None:
    """The Azure SDK sends ``library%2Fhello``: the same repository as ``library/hello``."""
    with authorized(client, basic(*admin)):
        digest = push_image(client, "library/hello", "v1", seed="nested")
    token = access_token(client, *admin, "repository:library/hello:pull")

    response = client.get("/v2/library%2Fhello/manifests/v1", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == digest

    setup.scope_map("library-only", ["repositories/library/content/read"])
    scoped = setup.token("librarytoken", "library-only")
    narrow = access_token(client, scoped.name, scoped.password1, "repository:library:pull")
    insufficient(
        client.get("/v2/library%2Fhello/manifests/v1", headers=bearer(narrow)),
        "repository:library/hello:pull",
    )
