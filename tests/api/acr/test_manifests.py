"""``GET /acr/v1/<name>/_manifests`` and ``GET|PATCH /acr/v1/<name>/_manifests/<digest>``."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from tests.api.acr.support import (
    ACR_TIME,
    ALL_ENABLED,
    LOGIN_SERVER,
    attributes_of,
    follow,
    next_link,
    patch,
)
from tests.api.oci import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    TestClient,
    assert_error,
    canonical,
    descriptor,
    digest_of,
    image_manifest,
    push_blob,
    push_image,
    push_manifest,
)

REPO = "team/app"
MANIFESTS = "/acr/v1/team%2Fapp/_manifests"


def _platform_image(client: TestClient, arch: str, media_type: str = OCI_MANIFEST) -> tuple[bytes, str]:
    config = json.dumps({"architecture": arch, "os": "linux", "created": arch}).encode()
    layer = f"layer for {arch}".encode()
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    body = canonical(image_manifest(config, [layer], media_type=media_type))
    assert push_manifest(client, REPO, digest_of(body), body, media_type).status_code == 201
    return body, digest_of(body)


@pytest.fixture
def index(client: TestClient) -> tuple[str, list[str]]:
    """An OCI index tagged ``multi`` over an amd64 and an arm64 image (pushed untagged)."""
    children = [_platform_image(client, arch) for arch in ("amd64", "arm64")]
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            descriptor(OCI_MANIFEST, body, platform={"architecture": arch, "os": "linux"})
            for (body, _), arch in zip(children, ("amd64", "arm64"), strict=True)
        ],
    }
    body = canonical(document)
    assert push_manifest(client, REPO, "multi", body, OCI_INDEX).status_code == 201
    return digest_of(body), [digest for _, digest in children]


def test_listing_has_acrs_shape(client: TestClient, index: tuple[str, list[str]]) -> None:
    index_digest, (amd64, arm64) = index

    response = client.get(MANIFESTS, params={"api-version": "2021-07-01"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"registry", "imageName", "manifests"}
    assert (body["registry"], body["imageName"]) == (LOGIN_SERVER, REPO)
    by_digest = {m["digest"]: m for m in body["manifests"]}
    assert [m["digest"] for m in body["manifests"]] == sorted(by_digest)
    assert set(by_digest) == {index_digest, amd64, arm64}
    for manifest in body["manifests"]:
        assert ACR_TIME.match(manifest["createdTime"])
        assert ACR_TIME.match(manifest["lastUpdateTime"])
        assert isinstance(manifest["imageSize"], int)
        assert attributes_of(manifest) == ALL_ENABLED

    image = by_digest[arm64]
    assert (image["architecture"], image["os"]) == ("arm64", "linux")
    config = json.dumps({"architecture": "arm64", "os": "linux", "created": "arm64"}).encode()
    assert image["imageSize"] == len(config) + len(b"layer for arm64")  # config and layers
    assert image["mediaType"] == OCI_MANIFEST
    assert image["tags"] == []
    assert "references" not in image

    multi = by_digest[index_digest]
    assert multi["mediaType"] == OCI_INDEX
    assert multi["tags"] == ["multi"]
    assert "architecture" not in multi
    assert sorted(multi["references"], key=lambda r: r["architecture"]) == [
        {"digest": amd64, "architecture": "amd64", "os": "linux"},
        {"digest": arm64, "architecture": "arm64", "os": "linux"},
    ]


def test_docker_manifest_list_has_references_and_docker_media_types(client: TestClient) -> None:
    children = [_platform_image(client, arch, DOCKER_MANIFEST) for arch in ("amd64", "s390x")]
    document = {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [
            descriptor(DOCKER_MANIFEST, body, platform={"architecture": arch, "os": "linux"})
            for (body, _), arch in zip(children, ("amd64", "s390x"), strict=True)
        ],
    }
    body = canonical(document)
    push_manifest(client, REPO, "list", body, DOCKER_LIST)

    manifest = client.get(f"{MANIFESTS}/{digest_of(body)}").json()["manifest"]

    assert manifest["mediaType"] == DOCKER_LIST
    assert {r["architecture"] for r in manifest["references"]} == {"amd64", "s390x"}
    child = client.get(f"{MANIFESTS}/{children[1][1]}").json()["manifest"]
    assert (child["mediaType"], child["architecture"]) == (DOCKER_MANIFEST, "s390x")


def test_tags_of_a_manifest_are_listed_in_name_order(client: TestClient) -> None:
    body, digest = push_image(client, REPO, "zeta")
    for tag in ("alpha", "mid"):
        push_manifest(client, REPO, tag, body, OCI_MANIFEST)

    manifest = client.get(f"{MANIFESTS}/{digest}").json()["manifest"]

    assert manifest["tags"] == ["alpha", "mid", "zeta"]


def test_get_one_manifest_by_encoded_or_plain_digest(
    client: TestClient, index: tuple[str, list[str]]
) -> None:
    index_digest, _ = index
    listed = next(m for m in client.get(MANIFESTS).json()["manifests"] if m["digest"] == index_digest)

    encoded = client.get(f"{MANIFESTS}/{quote(index_digest, safe='')}")
    plain = client.get(f"/acr/v1/team/app/_manifests/{index_digest}")

    assert encoded.status_code == 200, encoded.text
    body = encoded.json()
    assert set(body) == {"registry", "imageName", "manifest"}
    assert (body["registry"], body["imageName"]) == (LOGIN_SERVER, REPO)
    assert body["manifest"] == listed
    assert plain.json() == body


def test_unknown_manifest_is_404_manifest_unknown(client: TestClient, index: tuple[str, list[str]]) -> None:
    missing = "sha256:" + "0" * 64
    for method in ("GET", "PATCH"):
        response = client.request(method, f"{MANIFESTS}/{missing}", json={"writeEnabled": False})
        entry = assert_error(response, 404, "MANIFEST_UNKNOWN")
        assert entry["detail"] == {"name": REPO, "digest": missing}


def test_manifest_of_an_unknown_repository_is_404_name_unknown(client: TestClient) -> None:
    assert_error(client.get("/acr/v1/nothing/_manifests"), 404, "NAME_UNKNOWN")
    assert_error(client.get("/acr/v1/nothing/_manifests/sha256:" + "0" * 64), 404, "NAME_UNKNOWN")


@pytest.mark.parametrize("reference", ["latest", "sha256:abc", "md5:" + "0" * 32])
def test_a_reference_that_is_not_a_digest_is_400(client: TestClient, reference: str) -> None:
    push_image(client, REPO, "latest")

    assert_error(client.get(f"{MANIFESTS}/{reference}"), 400, "DIGEST_INVALID")


def test_manifests_are_not_deleted_through_acr_v1(client: TestClient) -> None:
    _, digest = push_image(client, REPO, "v1")

    response = client.delete(f"{MANIFESTS}/{digest}")

    entry = assert_error(response, 405, "UNSUPPORTED")
    assert "DELETE" in entry["message"]
    assert "GET" in response.headers["Allow"]
    assert "PATCH" in response.headers["Allow"]
    assert client.get(f"{MANIFESTS}/{digest}").status_code == 200


def test_patch_manifest_attributes(client: TestClient, index: tuple[str, list[str]]) -> None:
    index_digest, (amd64, _) = index

    response = patch(client, f"{MANIFESTS}/{index_digest}", readEnabled=False, deleteEnabled=False)

    manifest = response.json()["manifest"]
    assert attributes_of(manifest) == {**ALL_ENABLED, "readEnabled": False, "deleteEnabled": False}
    assert manifest["tags"] == ["multi"]
    assert len(manifest["references"]) == 2
    assert response.json()["imageName"] == REPO
    assert client.get(f"{MANIFESTS}/{index_digest}").json()["manifest"] == manifest
    assert attributes_of(client.get(f"{MANIFESTS}/{amd64}").json()["manifest"]) == ALL_ENABLED
    tag = client.get("/acr/v1/team/app/_tags/multi").json()["tag"]
    assert attributes_of(tag) == ALL_ENABLED


def test_patch_manifest_with_a_bad_body_is_400(client: TestClient) -> None:
    _, digest = push_image(client, REPO, "v1")

    response = client.patch(f"{MANIFESTS}/{digest}", json={"quarantineState": "Passed"})

    entry = assert_error(response, 400, "BAD_REQUEST")

    assert entry["detail"] == {"field": "quarantineState"}


# --- paging and order ------------------------------------------------------------------------


@pytest.fixture
def five(client: TestClient) -> list[str]:
    """Five manifests pushed one after another: their digests in push order."""
    digests = []
    for i in range(5):
        _, digest = push_image(client, REPO, None, seed=f"m{i}")
        digests.append(digest)
        time.sleep(0.002)
    return digests


def test_pages_follow_the_link_header(client: TestClient, five: list[str]) -> None:
    first = client.get(MANIFESTS, params={"n": 2})

    names = sorted(five)
    assert [m["digest"] for m in first.json()["manifests"]] == names[:2]
    assert next_link(first) == f"/acr/v1/team/app/_manifests?last={quote(names[1])}&n=2&orderby="
    assert "link" not in first.json()  # the JS SDK merges body and headers: a body link breaks paging
    items, pages = follow(client, f"{MANIFESTS}?n=2", "manifests")
    assert [m["digest"] for m in items] == names
    assert len(pages) == 3


@pytest.mark.parametrize("order", ["timedesc", "timeasc"])
def test_orderby_time_pages_in_time_order(client: TestClient, five: list[str], order: str) -> None:
    expected = list(reversed(five)) if order == "timedesc" else five

    whole = client.get(MANIFESTS, params={"orderby": order}).json()["manifests"]
    items, pages = follow(client, f"{MANIFESTS}?orderby={order}&n=2", "manifests")

    assert [m["digest"] for m in whole] == expected
    assert [m["digest"] for m in items] == expected
    assert len(pages) == 3
    assert f"orderby={order}" in (next_link(pages[0]) or "")


def test_bad_orderby_is_400(client: TestClient, five: list[str]) -> None:
    entry = assert_error(client.get(MANIFESTS, params={"orderby": "size"}), 400, "BAD_REQUEST")

    assert entry["detail"] == {"orderby": "size"}
