"""``GET /acr/v1/_catalog``: ACR's repository listing with ``n``/``last`` pages and its Link format."""

from __future__ import annotations

from typing import Any

import pytest

from berth.app import BerthApp
from berth.metadata import repositories as repository_rows
from tests.api.access.wire import TestClient, access_token, authorized, basic, bearer, push_image, token_post
from tests.support.access_setup import AccessSetup

CATALOG = "registry:catalog:*"


@pytest.fixture
def catalog_token(client: TestClient, setup: AccessSetup) -> str:
    sp = setup.service_principal(role="AcrPull")
    return access_token(client, sp.app_id, sp.secret, CATALOG)


@pytest.fixture
def many(client: TestClient, admin: tuple[str, str]) -> list[str]:
    names = ["alpha", "beta", "library/busybox", "library/hello-world", "zeta"]
    with authorized(client, basic(*admin)):
        for name in names:
            push_image(client, name, "v1", seed=name)
    return names


def listing(client: TestClient, token: str, url: str = "/acr/v1/_catalog", **params: Any) -> Any:
    response = client.get(url, params=params or None, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response


def test_an_empty_registry_lists_null(client: TestClient, catalog_token: str) -> None:
    assert listing(client, catalog_token).json() == {"repositories": None}


def test_lists_every_repository_in_order(client: TestClient, catalog_token: str, many: list[str]) -> None:
    response = listing(client, catalog_token)
    assert response.json() == {"repositories": many}
    assert "Link" not in response.headers


def test_pages_follow_the_link_header_verbatim(
    client: TestClient, catalog_token: str, many: list[str]
) -> None:
    first = listing(client, catalog_token, n=2)
    assert first.json() == {"repositories": ["alpha", "beta"]}
    assert first.headers["Link"] == '</acr/v1/_catalog?last=beta&n=2&orderby=>; rel="next"'

    link = first.headers["Link"]
    second = listing(client, catalog_token, link[1 : link.index(">")])
    assert second.json() == {"repositories": ["library/busybox", "library/hello-world"]}
    assert second.headers["Link"] == '</acr/v1/_catalog?last=library/hello-world&n=2&orderby=>; rel="next"'

    link = second.headers["Link"]
    third = listing(client, catalog_token, link[1 : link.index(">")])
    assert third.json() == {"repositories": ["zeta"]}
    assert "Link" not in third.headers


def test_last_without_n(client: TestClient, catalog_token: str, many: list[str]) -> None:
    assert listing(client, catalog_token, last="beta").json() == {
        "repositories": ["library/busybox", "library/hello-world", "zeta"]
    }


def test_default_page_is_100(
    client: TestClient, catalog_token: str, admin: tuple[str, str], app: BerthApp
) -> None:
    with authorized(client, basic(*admin)):
        for i in range(101):
            push_image(client, f"r{i:03d}", "v1", seed="same")
    response = listing(client, catalog_token)
    assert len(response.json()["repositories"]) == 100
    assert response.headers["Link"] == '</acr/v1/_catalog?last=r099&n=100&orderby=>; rel="next"'


def test_bad_page_size(client: TestClient, catalog_token: str) -> None:
    response = client.get("/acr/v1/_catalog", params={"n": "-1"}, headers=bearer(catalog_token))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_hidden_repositories_are_left_out(
    client: TestClient, catalog_token: str, many: list[str], app: BerthApp, setup: AccessSetup
) -> None:
    registry = setup.registry()

    def hide(conn: Any) -> None:
        repo = repository_rows.get(conn, registry.id, "beta")
        assert repo is not None
        repository_rows.set_attributes(conn, repo.id, {"list_enabled": False})

    setup.db.write_sync(hide)
    assert listing(client, catalog_token).json() == {"repositories": [n for n in many if n != "beta"]}


def test_needs_the_catalog_scope(client: TestClient, setup: AccessSetup, many: list[str]) -> None:
    token = setup.token("pulltoken", "_repositories_admin")
    scoped = access_token(client, token.name, token.password1, CATALOG)
    response = client.get("/acr/v1/_catalog", headers=bearer(scoped))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(f',scope="{CATALOG}",error="insufficient_scope"')


def test_anonymous_pull_does_not_list_the_catalog(
    client: TestClient, setup: AccessSetup, many: list[str]
) -> None:
    """Anonymous pull is pull only unless anonymous_pull_lists_catalog is set (issue 8, finding 14)."""
    setup.set_anonymous_pull(True)
    token = token_post(client, grant_type="password", scope=CATALOG).json()["access_token"]
    assert client.get("/acr/v1/_catalog", headers=bearer(token)).status_code == 401
