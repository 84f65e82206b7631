"""``GET /acr/v1/<name>/_tags`` and ``GET|PATCH|DELETE /acr/v1/<name>/_tags/<tag>``."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Connection, update

from berth.app import BerthApp
from berth.metadata.schema import tags
from tests.api.acr.support import (
    ACR_TIME,
    ALL_ENABLED,
    LOGIN_SERVER,
    attributes_of,
    follow,
    next_link,
    patch,
)
from tests.api.oci import TestClient, assert_error, push_image, push_manifest

REPO = "team/app"
TAGS = "/acr/v1/team%2Fapp/_tags"


@pytest.fixture
def tagged(client: TestClient) -> dict[str, str]:
    """Tags pushed one after another (so their times increase): tag → digest."""
    digests: dict[str, str] = {}
    for name, seed in [("c", "one"), ("a", "two"), ("d", "one"), ("b", "three"), ("e", "two")]:
        _, digests[name] = push_image(client, REPO, name, seed=seed)
        time.sleep(0.002)
    return digests


def test_listing_has_acrs_shape(client: TestClient, tagged: dict[str, str]) -> None:
    response = client.get(TAGS, params={"api-version": "2021-07-01"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"registry", "imageName", "tags"}
    assert body["registry"] == LOGIN_SERVER
    assert body["imageName"] == REPO
    assert [t["name"] for t in body["tags"]] == ["a", "b", "c", "d", "e"]
    for tag in body["tags"]:
        assert set(tag) == {
            "name",
            "digest",
            "createdTime",
            "lastUpdateTime",
            "signed",
            "changeableAttributes",
        }
        assert tag["digest"] == tagged[tag["name"]]
        assert ACR_TIME.match(tag["createdTime"])
        assert ACR_TIME.match(tag["lastUpdateTime"])
        assert tag["signed"] is False
        assert attributes_of(tag) == ALL_ENABLED
    assert "Link" not in response.headers


def test_unencoded_names_list_the_same_tags(client: TestClient, tagged: dict[str, str]) -> None:
    assert client.get("/acr/v1/team/app/_tags").json() == client.get(TAGS).json()


def test_pages_follow_the_link_header(client: TestClient, tagged: dict[str, str]) -> None:
    first = client.get(TAGS, params={"n": 2})

    assert [t["name"] for t in first.json()["tags"]] == ["a", "b"]
    assert first.headers["Link"] == '</acr/v1/team/app/_tags?last=b&n=2&orderby=>; rel="next"'
    assert "link" not in first.json()  # the JS SDK merges body and headers: a body link breaks paging
    items, pages = follow(client, f"{TAGS}?n=2", "tags")
    assert [t["name"] for t in items] == ["a", "b", "c", "d", "e"]
    assert len(pages) == 3
    assert "link" not in pages[-1].json()


def test_last_alone_starts_after_that_tag(client: TestClient, tagged: dict[str, str]) -> None:
    body = client.get(TAGS, params={"last": "c"}).json()

    assert [t["name"] for t in body["tags"]] == ["d", "e"]


def test_a_page_exactly_as_long_as_the_rest_has_no_link(client: TestClient, tagged: dict[str, str]) -> None:
    response = client.get(TAGS, params={"n": 5})

    assert len(response.json()["tags"]) == 5
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    ("order", "expected"), [("timedesc", ["e", "b", "d", "a", "c"]), ("timeasc", ["c", "a", "d", "b", "e"])]
)
def test_orderby_time_pages_in_time_order(
    client: TestClient, tagged: dict[str, str], order: str, expected: list[str]
) -> None:
    whole = client.get(TAGS, params={"orderby": order}).json()["tags"]
    assert [t["name"] for t in whole] == expected

    first = client.get(TAGS, params={"orderby": order, "n": 2})
    assert next_link(first) == f"/acr/v1/team/app/_tags?last={expected[1]}&n=2&orderby={order}"
    items, pages = follow(client, f"{TAGS}?orderby={order}&n=2", "tags")
    assert [t["name"] for t in items] == expected
    assert len(pages) == 3


def test_tags_updated_at_the_same_instant_page_without_loss(app: BerthApp, client: TestClient) -> None:
    """Ties in time are broken by name, so a page boundary inside a tie loses nothing."""
    body, _ = push_image(client, REPO, "seed")
    for name in ["t1", "t2", "t3", "t4"]:
        push_manifest(client, REPO, name, body, "application/vnd.oci.image.manifest.v1+json")

    def same_instant(conn: Connection) -> None:
        conn.execute(
            update(tags).where(tags.c.name.in_(["t2", "t3", "t4"])).values(updated_at=1_700_000_000.5)
        )

    app.services.db.write_sync(same_instant)

    for order in ("timedesc", "timeasc"):
        items, _ = follow(client, f"{TAGS}?orderby={order}&n=1", "tags")
        names = [t["name"] for t in items]
        assert sorted(names) == ["seed", "t1", "t2", "t3", "t4"]
        tied = ["t2", "t3", "t4"]
        assert names[-3:] == tied if order == "timedesc" else names[:3] == tied


def test_an_updated_tag_moves_to_the_front_of_timedesc(client: TestClient, tagged: dict[str, str]) -> None:
    time.sleep(0.002)
    push_image(client, REPO, "a", seed="moved")

    body = client.get(TAGS, params={"orderby": "TimeDesc"}).json()

    assert body["tags"][0]["name"] == "a"


def test_orderby_none_is_name_order(client: TestClient, tagged: dict[str, str]) -> None:
    body = client.get(TAGS, params={"orderby": "none"}).json()

    assert [t["name"] for t in body["tags"]] == ["a", "b", "c", "d", "e"]


def test_digest_filter_lists_the_tags_of_one_manifest(client: TestClient, tagged: dict[str, str]) -> None:
    digest = tagged["c"]

    body = client.get(TAGS, params={"digest": digest}).json()
    assert [t["name"] for t in body["tags"]] == ["c", "d"]

    first = client.get(TAGS, params={"digest": digest, "n": 1})
    assert [t["name"] for t in first.json()["tags"]] == ["c"]
    items, _ = follow(client, next_link(first) or "", "tags")
    assert [t["name"] for t in items] == ["d"]


def test_digest_filter_with_an_unknown_digest_lists_nothing(
    client: TestClient, tagged: dict[str, str]
) -> None:
    body = client.get(TAGS, params={"digest": "sha256:" + "0" * 64}).json()

    assert body["tags"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"n": "-1"}, "PAGINATION_NUMBER_INVALID"),
        ({"n": "many"}, "PAGINATION_NUMBER_INVALID"),
        ({"orderby": "name"}, "BAD_REQUEST"),
        ({"digest": "sha256:short"}, "DIGEST_INVALID"),
    ],
)
def test_bad_listing_parameters_are_400(
    client: TestClient, tagged: dict[str, str], params: dict[str, str], code: str
) -> None:
    assert_error(client.get(TAGS, params=params), 400, code)


def test_n_zero_lists_nothing_but_still_checks_the_repository(
    client: TestClient, tagged: dict[str, str]
) -> None:
    assert client.get(TAGS, params={"n": 0}).json()["tags"] == []
    assert_error(client.get("/acr/v1/nothing/_tags", params={"n": 0}), 404, "NAME_UNKNOWN")


def test_listing_an_unknown_repository_is_404(client: TestClient) -> None:
    assert_error(client.get("/acr/v1/nothing%2Fhere/_tags"), 404, "NAME_UNKNOWN")


# --- one tag ---------------------------------------------------------------------------------


def test_get_one_tag(client: TestClient, tagged: dict[str, str]) -> None:
    response = client.get(f"{TAGS}/b", params={"api-version": "2021-07-01"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"registry", "imageName", "tag"}
    assert (body["registry"], body["imageName"]) == (LOGIN_SERVER, REPO)
    assert body["tag"]["name"] == "b"
    assert body["tag"]["digest"] == tagged["b"]
    assert body["tag"] == next(t for t in client.get(TAGS).json()["tags"] if t["name"] == "b")


def test_unknown_tag_is_404_tag_unknown(client: TestClient, tagged: dict[str, str]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, f"{TAGS}/nope", json={"writeEnabled": False})
        entry = assert_error(response, 404, "TAG_UNKNOWN")
        assert entry["detail"] == {"name": REPO, "tag": "nope"}


def test_tag_of_an_unknown_repository_is_404_name_unknown(client: TestClient) -> None:
    assert_error(client.get("/acr/v1/nothing/_tags/v1"), 404, "NAME_UNKNOWN")


def test_invalid_tag_is_400_tag_invalid(client: TestClient, tagged: dict[str, str]) -> None:
    assert_error(client.get(f"{TAGS}/.bad"), 400, "TAG_INVALID")


def test_patch_tag_attributes(client: TestClient, tagged: dict[str, str]) -> None:
    before = client.get(f"{TAGS}/a").json()["tag"]

    response = patch(client, f"{TAGS}/a", deleteEnabled=False, writeEnabled=False)

    tag = response.json()["tag"]
    assert attributes_of(tag) == {**ALL_ENABLED, "deleteEnabled": False, "writeEnabled": False}
    assert tag["digest"] == before["digest"]
    assert tag["createdTime"] == before["createdTime"]
    assert response.json()["imageName"] == REPO
    assert client.get(f"{TAGS}/a").json()["tag"] == tag
    others = [t for t in client.get(TAGS).json()["tags"] if t["name"] != "a"]
    assert all(attributes_of(t) == ALL_ENABLED for t in others)
    manifest = client.get(f"/acr/v1/team/app/_manifests/{tagged['a']}").json()["manifest"]
    assert attributes_of(manifest) == ALL_ENABLED


def test_patch_tag_with_a_bad_body_is_400(client: TestClient, tagged: dict[str, str]) -> None:
    entry = assert_error(client.patch(f"{TAGS}/a", json={"deleteEnabled": "no"}), 400, "BAD_REQUEST")

    assert entry["detail"] == {"field": "deleteEnabled"}


def test_delete_tag_untags_and_keeps_the_manifest(client: TestClient, tagged: dict[str, str]) -> None:
    response = client.delete(f"{TAGS}/c")

    assert response.status_code == 202
    assert response.content == b""
    assert_error(client.get(f"{TAGS}/c"), 404, "TAG_UNKNOWN")
    assert_error(client.get("/v2/team/app/manifests/c"), 404, "MANIFEST_UNKNOWN")
    assert client.get(f"/v2/team/app/manifests/{tagged['c']}").status_code == 200
    assert client.get("/v2/team/app/manifests/d").status_code == 200
    assert client.get("/acr/v1/team/app").json()["tagCount"] == 4
    assert_error(client.delete(f"{TAGS}/c"), 404, "TAG_UNKNOWN")
