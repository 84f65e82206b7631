"""Anonymous pull is pull, not a listing of every repository (issue 8, finding 14).

ACR documents anonymous pull as "read (pull) actions" for all repositories; it does not
promise the catalog. berth therefore grants anonymous callers ``pull`` and ``metadata_read``
but not ``registry:catalog:*``, unless the operator sets ``anonymous_pull_lists_catalog``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.access import secrets
from berth.app import BerthApp, build_app
from tests.api.access.wire import (
    TestClient,
    authorized,
    basic,
    bearer,
    payload,
    push_image,
    token_get,
    token_post,
)
from tests.security.secure_app import cheap_hasher, clients_of, secure_settings
from tests.support.access_setup import AccessSetup

CATALOG = "registry:catalog:*"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_HASHER", cheap_hasher())


def _served(app: BerthApp) -> Iterator[tuple[TestClient, AccessSetup]]:
    with clients_of(app) as clients:
        client = clients("testclient")
        setup = AccessSetup.for_app(app)
        password, _ = setup.enable_admin()
        with authorized(client, basic("default", password)):
            push_image(client, "hello", "v1", seed="hello")
        setup.set_anonymous_pull(True)
        yield client, setup


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    for client, _ in _served(build_app(secure_settings(tmp_path, database_url))):
        yield client


@pytest.fixture
def opted_in(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = secure_settings(tmp_path, database_url, anonymous_pull_lists_catalog=True)
    for client, _ in _served(build_app(settings)):
        yield client


def _anonymous_tokens(client: TestClient, *scopes: str) -> list[str]:
    """An anonymous token the docker way (GET, no credentials) and the SDK way (POST password)."""
    by_docker = token_get(client, None, None, *scopes)
    by_sdk = token_post(client, grant_type="password", scope=" ".join(scopes))
    for response in (by_docker, by_sdk):
        assert response.status_code == 200, response.text
    return [by_docker.json()["access_token"], by_sdk.json()["access_token"]]


def test_anonymous_callers_do_not_list_the_catalog(client: TestClient) -> None:
    for token in _anonymous_tokens(client, CATALOG):
        assert payload(token)["access"] == [{"type": "registry", "name": "catalog", "actions": []}]
        for path in ("/v2/_catalog", "/acr/v1/_catalog"):
            response = client.get(path, headers=bearer(token))
            assert response.status_code == 401, (path, response.text)
            assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_anonymous_callers_still_pull(client: TestClient) -> None:
    for token in _anonymous_tokens(client, "repository:hello:pull"):
        assert payload(token)["access"] == [{"type": "repository", "name": "hello", "actions": ["pull"]}]
        assert client.get("/v2/hello/manifests/v1", headers=bearer(token)).status_code == 200
        assert client.get("/v2/hello/tags/list", headers=bearer(token)).status_code == 200


def test_the_operator_may_opt_in_to_anonymous_catalog_listing(opted_in: TestClient) -> None:
    for token in _anonymous_tokens(opted_in, CATALOG):
        assert payload(token)["access"] == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
        assert opted_in.get("/v2/_catalog", headers=bearer(token)).json() == {"repositories": ["hello"]}
