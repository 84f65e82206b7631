"""``GET /v2/_catalog``: the registry's repositories, with ``n``/``last`` pagination and ``Link``."""

from __future__ import annotations

import pytest

from tests.api.oci import TestClient, assert_error, push_blob, push_image

REPOSITORIES = ["alpha", "beta/one", "beta/two", "gamma", "zeta/deep/nested"]


@pytest.fixture
def populated(client: TestClient) -> list[str]:
    for name in REPOSITORIES:
        push_image(client, name, "v1", seed=name)
    return REPOSITORIES


def test_empty_registry_has_an_empty_catalog(client: TestClient) -> None:
    response = client.get("/v2/_catalog")

    assert response.status_code == 200
    assert response.json() == {"repositories": []}
    assert "Link" not in response.headers


def test_catalog_lists_repositories_in_order(client: TestClient, populated: list[str]) -> None:
    response = client.get("/v2/_catalog")

    assert response.json() == {"repositories": sorted(populated)}
    assert "Link" not in response.headers


def test_first_page_links_to_the_next(client: TestClient, populated: list[str]) -> None:
    response = client.get("/v2/_catalog", params={"n": 2})

    assert response.json() == {"repositories": ["alpha", "beta/one"]}
    assert response.headers["Link"] == '</v2/_catalog?n=2&last=beta%2Fone>; rel="next"'


def test_following_links_walks_every_repository_once(client: TestClient, populated: list[str]) -> None:
    seen: list[str] = []
    url: str | None = "/v2/_catalog?n=2"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(response.json()["repositories"])
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None

    assert seen == sorted(populated)


def test_last_starts_after_the_named_repository(client: TestClient, populated: list[str]) -> None:
    response = client.get("/v2/_catalog", params={"n": 2, "last": "beta/two"})

    assert response.json()["repositories"] == ["gamma", "zeta/deep/nested"]
    assert "Link" not in response.headers


def test_last_without_n(client: TestClient, populated: list[str]) -> None:
    response = client.get("/v2/_catalog", params={"last": "beta/one"})

    assert response.json()["repositories"] == ["beta/two", "gamma", "zeta/deep/nested"]


def test_n_zero_is_an_empty_list_without_link(client: TestClient, populated: list[str]) -> None:
    response = client.get("/v2/_catalog", params={"n": 0})

    assert response.status_code == 200
    assert response.json() == {"repositories": []}
    assert "Link" not in response.headers


@pytest.mark.parametrize("n", ["-1", "x", "1e3"])
def test_invalid_n_is_400_pagination_number_invalid(client: TestClient, n: str) -> None:
    assert_error(client.get("/v2/_catalog", params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")


def test_repositories_without_manifests_are_not_listed(client: TestClient, populated: list[str]) -> None:
    push_blob(client, "blobs/only", b"a blob but no manifest")
    client.post("/v2/uploads/only/blobs/uploads/")

    assert client.get("/v2/_catalog").json()["repositories"] == sorted(populated)


def test_a_repository_whose_manifests_are_deleted_leaves_the_catalog(
    client: TestClient, populated: list[str]
) -> None:
    digest = client.head("/v2/gamma/manifests/v1").headers["Docker-Content-Digest"]

    client.delete(f"/v2/gamma/manifests/{digest}")

    assert client.get("/v2/_catalog").json()["repositories"] == [r for r in sorted(populated) if r != "gamma"]


def test_catalog_pages_by_repository_name(client: TestClient) -> None:
    """Repositories sharing a prefix: 'a' < 'a/b' < 'a-b' < 'ab' in code-point order."""
    names = ["ab", "a-b", "a/b", "a"]
    for name in names:
        push_image(client, name, "v1", seed=name)

    everything = client.get("/v2/_catalog").json()["repositories"]
    paged: list[str] = []
    last = ""
    while True:
        page = client.get("/v2/_catalog", params={"n": 1, "last": last}).json()["repositories"]
        if not page:
            break
        paged.extend(page)
        last = page[-1]

    assert everything == sorted(names)
    assert paged == sorted(names)
