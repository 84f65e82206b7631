"""``GET /v2/<name>/tags/list`` with ``n``/``last`` pagination and ``Link``; tag deletion."""

from __future__ import annotations

import pytest

from tests.api.oci import OCI_MANIFEST, TestClient, assert_error, push_image, push_manifest

REPO = "team/app"
TAGS = ["1.0", "1.1", "2.0", "beta", "latest", "v1"]


@pytest.fixture
def tagged(client: TestClient) -> list[str]:
    body, _ = push_image(client, REPO, TAGS[0])
    for tag in TAGS[1:]:
        assert push_manifest(client, REPO, tag, body, OCI_MANIFEST).status_code == 201
    return TAGS


def test_all_tags_in_lexical_order(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"name": REPO, "tags": sorted(tagged)}
    assert "Link" not in response.headers


def test_first_page_links_to_the_next(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 2})

    assert response.json() == {"name": REPO, "tags": ["1.0", "1.1"]}
    assert response.headers["Link"] == f'</v2/{REPO}/tags/list?n=2&last=1.1>; rel="next"'


def test_following_links_walks_every_tag_once(client: TestClient, tagged: list[str]) -> None:
    seen: list[str] = []
    url: str | None = f"/v2/{REPO}/tags/list?n=4"
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(response.json()["tags"])
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        pages += 1

    assert seen == sorted(tagged)
    assert pages == 2


def test_last_starts_after_the_named_tag(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "2.0"})

    assert response.json()["tags"] == ["beta", "latest"]
    assert response.headers["Link"] == f'</v2/{REPO}/tags/list?n=2&last=latest>; rel="next"'


def test_last_without_n_returns_the_rest(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"last": "beta"})

    assert response.json()["tags"] == ["latest", "v1"]
    assert "Link" not in response.headers


def test_last_need_not_be_an_existing_tag(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"last": "c"})

    assert response.json()["tags"] == ["latest", "v1"]


def test_an_exact_last_page_has_no_link(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "beta"})

    assert response.json()["tags"] == ["latest", "v1"]
    assert "Link" not in response.headers


def test_n_larger_than_the_list(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 100})

    assert response.json()["tags"] == sorted(tagged)
    assert "Link" not in response.headers


def test_n_zero_is_an_empty_list_without_link(client: TestClient, tagged: list[str]) -> None:
    """The spec: when n is zero the list MUST be empty and there MUST NOT be a Link."""
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 0})

    assert response.status_code == 200
    assert response.json() == {"name": REPO, "tags": []}
    assert "Link" not in response.headers


def test_past_the_end_is_empty(client: TestClient, tagged: list[str]) -> None:
    response = client.get(f"/v2/{REPO}/tags/list", params={"n": 2, "last": "zzz"})

    assert response.json()["tags"] == []
    assert "Link" not in response.headers


@pytest.mark.parametrize("n", ["-1", "abc", "1.5", " 2"])
def test_invalid_n_is_400_pagination_number_invalid(client: TestClient, tagged: list[str], n: str) -> None:
    assert_error(client.get(f"/v2/{REPO}/tags/list", params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")


def test_tags_are_sorted_by_code_point_on_every_engine(client: TestClient) -> None:
    """Upper case before lower case, digits before letters, '_' between: one order everywhere."""
    names = ["b", "B", "a", "_x", "A", "9", "a-b", "a.b", "a_b", "Z"]
    body, _ = push_image(client, REPO, names[0])
    for tag in names[1:]:
        push_manifest(client, REPO, tag, body, OCI_MANIFEST)

    everything = client.get(f"/v2/{REPO}/tags/list").json()["tags"]
    paged: list[str] = []
    last = ""
    while True:
        page = client.get(f"/v2/{REPO}/tags/list", params={"n": 3, "last": last}).json()["tags"]
        if not page:
            break
        paged.extend(page)
        last = page[-1]

    assert everything == sorted(names)
    assert paged == sorted(names)


def test_repository_with_only_untagged_manifests_lists_no_tags(client: TestClient) -> None:
    push_image(client, REPO, None)

    assert client.get(f"/v2/{REPO}/tags/list").json() == {"name": REPO, "tags": []}


def test_unknown_repository_is_404_name_unknown(client: TestClient) -> None:
    for params in ({}, {"n": "0"}):
        entry = assert_error(client.get("/v2/team/nothing/tags/list", params=params), 404, "NAME_UNKNOWN")
        assert entry["detail"] == {"name": "team/nothing"}


# --- deleting tags --------------------------------------------------------------------------


def test_deleting_a_tag_keeps_the_manifest_and_other_tags(client: TestClient, tagged: list[str]) -> None:
    digest = client.head(f"/v2/{REPO}/manifests/latest").headers["Docker-Content-Digest"]

    assert client.delete(f"/v2/{REPO}/manifests/latest").status_code == 202

    assert client.get(f"/v2/{REPO}/tags/list").json()["tags"] == sorted(t for t in tagged if t != "latest")
    assert_error(client.get(f"/v2/{REPO}/manifests/latest"), 404, "MANIFEST_UNKNOWN")
    assert client.get(f"/v2/{REPO}/manifests/{digest}").status_code == 200
    assert client.get(f"/v2/{REPO}/manifests/v1").headers["Docker-Content-Digest"] == digest


def test_deleting_a_tag_twice_is_404(client: TestClient, tagged: list[str]) -> None:
    client.delete(f"/v2/{REPO}/manifests/beta")

    entry = assert_error(client.delete(f"/v2/{REPO}/manifests/beta"), 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Tag": "beta"}


def test_deleting_the_manifest_removes_every_tag(client: TestClient, tagged: list[str]) -> None:
    digest = client.head(f"/v2/{REPO}/manifests/latest").headers["Docker-Content-Digest"]

    assert client.delete(f"/v2/{REPO}/manifests/{digest}").status_code == 202

    assert client.get(f"/v2/{REPO}/tags/list").json()["tags"] == []


def test_a_deleted_tag_can_be_pushed_again(client: TestClient, tagged: list[str]) -> None:
    client.delete(f"/v2/{REPO}/manifests/beta")
    body, digest = push_image(client, REPO, "beta", seed="new beta")

    assert "beta" in client.get(f"/v2/{REPO}/tags/list").json()["tags"]
    assert client.get(f"/v2/{REPO}/manifests/beta").content == body
    assert client.head(f"/v2/{REPO}/manifests/beta").headers["Docker-Content-Digest"] == digest
