"""Nothing lets a caller exceed its grant: actions, repositories and registries (forged and
replayed tokens: tests/security/test_token_forgery.py)."""

from __future__ import annotations

from typing import Any

import pytest

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
    payload,
    push_image,
)
from tests.support.access_setup import AccessSetup

OTHER_HOST = "otherreg.localhost:5000"


def insufficient(response: Any, scope: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}",service="{SERVICE}",scope="{scope}",error="insufficient_scope"'
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
    """Without pull on the source the mount is an ordinary upload session, as for an unknown blob."""
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
    assert response.status_code == 202, response.text
    assert response.headers["Location"].startswith("/v2/target/blobs/uploads/")
    assert "Docker-Content-Digest" not in response.headers


# --- registries --------------------------------------------------------------------------------


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


# --- encoded names ---------------------------------------------------------------------------


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
