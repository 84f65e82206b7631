"""Changeable attributes as locks: what ``writeEnabled``, ``readEnabled``, ``deleteEnabled`` and
``listEnabled`` refuse or hide on the repository, a tag and a manifest, and that lifting them
restores the operation.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.acr.support import patch
from tests.api.oci import (
    OCI_MANIFEST,
    TestClient,
    assert_error,
    canonical,
    image_manifest,
    push_blob,
    push_image,
    push_manifest,
)

REPO = "team/app"
ACR = "/acr/v1/team%2Fapp"
Image = tuple[bytes, str]  # manifest bytes and digest


@pytest.fixture
def image(client: TestClient) -> Image:
    """One image tagged ``v1`` (and ``keep``); returns its manifest bytes and digest."""
    body, digest = push_image(client, REPO, "v1", seed="one")
    push_manifest(client, REPO, "keep", body, OCI_MANIFEST)
    return body, digest


def _other(client: TestClient, seed: str = "two") -> bytes:
    """A second manifest whose blobs are pushed but which is not itself pushed yet."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode()
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    return canonical(image_manifest(config, [layer]))


FLAGS = {"writeEnabled": "write-enabled", "readEnabled": "read-enabled", "deleteEnabled": "delete-enabled"}


def _denied(response: httpx.Response, attribute: str, target: str) -> None:
    """403 DENIED naming the attribute and the command that lifts it from ``target``."""
    entry = assert_error(response, 403, "DENIED")
    assert f"is locked: {attribute} is false" in entry["message"]
    lift = f"'berth acr repository update -n <registry> {target} --{FLAGS[attribute]} true'"
    assert entry["message"].endswith(lift), entry["message"]
    assert entry["detail"] == {"attribute": attribute}


# --- writeEnabled ----------------------------------------------------------------------------


def test_repository_write_lock_refuses_every_push(client: TestClient, image: Image) -> None:
    other = _other(client)
    patch(client, ACR, writeEnabled=False)

    _denied(push_manifest(client, REPO, "v2", other, OCI_MANIFEST), "writeEnabled", "--repository team/app")
    _denied(
        push_manifest(client, REPO, "v1", image[0], OCI_MANIFEST), "writeEnabled", "--repository team/app"
    )
    assert_error(client.get("/v2/team/app/manifests/v2"), 404, "MANIFEST_UNKNOWN")

    patch(client, ACR, writeEnabled=True)
    assert push_manifest(client, REPO, "v2", other, OCI_MANIFEST).status_code == 201


def test_tag_write_lock_refuses_moving_the_tag_only(client: TestClient, image: Image) -> None:
    body, digest = image
    other = _other(client)
    patch(client, f"{ACR}/_tags/v1", writeEnabled=False)

    _denied(push_manifest(client, REPO, "v1", other, OCI_MANIFEST), "writeEnabled", "--image team/app:v1")
    assert client.get("/acr/v1/team/app/_tags/v1").json()["tag"]["digest"] == digest
    assert push_manifest(client, REPO, "v1", body, OCI_MANIFEST).status_code == 201  # same content
    assert push_manifest(client, REPO, "keep", other, OCI_MANIFEST).status_code == 201  # another tag
    assert push_manifest(client, REPO, "new", other, OCI_MANIFEST).status_code == 201

    patch(client, f"{ACR}/_tags/v1", writeEnabled=True)
    assert push_manifest(client, REPO, "v1", other, OCI_MANIFEST).status_code == 201


def test_manifest_write_lock_refuses_overwriting_its_tags(client: TestClient, image: Image) -> None:
    body, digest = image
    other = _other(client)
    patch(client, f"{ACR}/_manifests/{digest}", writeEnabled=False)

    _denied(
        push_manifest(client, REPO, "v1", other, OCI_MANIFEST), "writeEnabled", f"--image team/app@{digest}"
    )
    _denied(
        push_manifest(client, REPO, "keep", other, OCI_MANIFEST), "writeEnabled", f"--image team/app@{digest}"
    )
    assert push_manifest(client, REPO, "v1", body, OCI_MANIFEST).status_code == 201
    assert push_manifest(client, REPO, "another", body, OCI_MANIFEST).status_code == 201
    assert push_manifest(client, REPO, "v2", other, OCI_MANIFEST).status_code == 201

    patch(client, f"{ACR}/_manifests/{digest}", writeEnabled=True)
    assert push_manifest(client, REPO, "v1", other, OCI_MANIFEST).status_code == 201


# --- readEnabled -----------------------------------------------------------------------------


def test_repository_read_lock_refuses_manifests_and_blobs(client: TestClient, image: Image) -> None:
    body, digest = image
    config_digest = json.loads(body)["config"]["digest"]
    patch(client, ACR, readEnabled=False)

    _denied(client.get("/v2/team/app/manifests/v1"), "readEnabled", "--repository team/app")
    _denied(client.get(f"/v2/team/app/manifests/{digest}"), "readEnabled", "--repository team/app")
    _denied(client.get(f"/v2/team/app/blobs/{config_digest}"), "readEnabled", "--repository team/app")
    assert client.get(f"{ACR}/_tags").status_code == 200  # metadata stays readable

    patch(client, ACR, readEnabled=True)
    assert client.get("/v2/team/app/manifests/v1").content == body
    assert client.get(f"/v2/team/app/blobs/{config_digest}").status_code == 200


def test_tag_read_lock_refuses_pulls_by_that_tag(client: TestClient, image: Image) -> None:
    body, digest = image
    patch(client, f"{ACR}/_tags/v1", readEnabled=False)

    _denied(client.get("/v2/team/app/manifests/v1"), "readEnabled", "--image team/app:v1")
    assert client.get("/v2/team/app/manifests/keep").content == body
    assert client.get(f"/v2/team/app/manifests/{digest}").content == body

    patch(client, f"{ACR}/_tags/v1", readEnabled=True)
    assert client.get("/v2/team/app/manifests/v1").content == body


def test_manifest_read_lock_refuses_pulls_by_digest_and_tag(client: TestClient, image: Image) -> None:
    body, digest = image
    patch(client, f"{ACR}/_manifests/{digest}", readEnabled=False)

    _denied(client.get(f"/v2/team/app/manifests/{digest}"), "readEnabled", f"--image team/app@{digest}")
    _denied(client.get("/v2/team/app/manifests/v1"), "readEnabled", f"--image team/app@{digest}")
    _denied(client.get("/v2/team/app/manifests/keep"), "readEnabled", f"--image team/app@{digest}")

    patch(client, f"{ACR}/_manifests/{digest}", readEnabled=True)
    assert client.get("/v2/team/app/manifests/keep").content == body


# --- deleteEnabled ---------------------------------------------------------------------------


def test_repository_delete_lock_refuses_every_delete(client: TestClient, image: Image) -> None:
    _, digest = image
    patch(client, ACR, deleteEnabled=False)

    _denied(client.delete(ACR), "deleteEnabled", "--repository team/app")
    _denied(client.delete(f"{ACR}/_tags/v1"), "deleteEnabled", "--repository team/app")
    _denied(client.delete("/v2/team/app/manifests/v1"), "deleteEnabled", "--repository team/app")
    _denied(client.delete(f"/v2/team/app/manifests/{digest}"), "deleteEnabled", "--repository team/app")
    assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 200

    patch(client, ACR, deleteEnabled=True)
    assert client.delete(ACR).status_code == 202


def test_tag_delete_lock_refuses_untag_and_deleting_its_manifest_or_repository(
    client: TestClient, image: Image
) -> None:
    _, digest = image
    patch(client, f"{ACR}/_tags/v1", deleteEnabled=False)

    _denied(client.delete(f"{ACR}/_tags/v1"), "deleteEnabled", "--image team/app:v1")
    _denied(client.delete("/v2/team/app/manifests/v1"), "deleteEnabled", "--image team/app:v1")
    _denied(client.delete(f"/v2/team/app/manifests/{digest}"), "deleteEnabled", "--image team/app:v1")
    _denied(client.delete(ACR), "deleteEnabled", "--image team/app:v1")
    assert client.delete(f"{ACR}/_tags/keep").status_code == 202  # an unlocked tag of the same manifest
    assert client.get("/acr/v1/team/app/_tags/v1").status_code == 200

    patch(client, f"{ACR}/_tags/v1", deleteEnabled=True)
    assert client.delete(f"/v2/team/app/manifests/{digest}").status_code == 202


def test_manifest_delete_lock_refuses_deleting_it_and_its_repository(
    client: TestClient, image: Image
) -> None:
    _, digest = image
    patch(client, f"{ACR}/_manifests/{digest}", deleteEnabled=False)

    _denied(client.delete(f"/v2/team/app/manifests/{digest}"), "deleteEnabled", f"--image team/app@{digest}")
    _denied(client.delete(ACR), "deleteEnabled", f"--image team/app@{digest}")
    assert client.delete(f"{ACR}/_tags/v1").status_code == 202  # untag leaves the manifest
    assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 200

    patch(client, f"{ACR}/_manifests/{digest}", deleteEnabled=True)
    assert client.delete(ACR).status_code == 202


def test_a_locked_repository_still_takes_attribute_changes(client: TestClient, image: Image) -> None:
    _, digest = image
    patch(client, ACR, writeEnabled=False, deleteEnabled=False, readEnabled=False)

    patch(client, f"{ACR}/_tags/v1", listEnabled=False)
    patch(client, f"{ACR}/_manifests/{digest}", listEnabled=False)

    assert client.get(ACR).json()["changeableAttributes"]["writeEnabled"] is False


# --- listEnabled -----------------------------------------------------------------------------


def test_unlisted_tags_are_hidden_from_both_tag_listings(client: TestClient, image: Image) -> None:
    body, _ = image
    for tag in ("a", "b", "c"):
        push_manifest(client, REPO, tag, body, OCI_MANIFEST)
    patch(client, f"{ACR}/_tags/b", listEnabled=False)
    patch(client, f"{ACR}/_tags/keep", listEnabled=False)

    acr_names = [t["name"] for t in client.get(f"{ACR}/_tags").json()["tags"]]
    assert acr_names == ["a", "c", "v1"]
    assert client.get("/v2/team/app/tags/list").json()["tags"] == ["a", "c", "v1"]
    page = client.get("/v2/team/app/tags/list", params={"n": 1, "last": "a"})
    assert page.json()["tags"] == ["c"]
    assert client.get(f"{ACR}/_tags", params={"digest": image[1]}).json()["tags"][0]["name"] == "a"

    # Hidden is not gone: the tag is readable by name and pullable.
    assert client.get(f"{ACR}/_tags/b").json()["tag"]["changeableAttributes"]["listEnabled"] is False
    assert client.get("/v2/team/app/manifests/b").content == body
    assert client.get(ACR).json()["tagCount"] == 5

    patch(client, f"{ACR}/_tags/b", listEnabled=True)
    assert client.get("/v2/team/app/tags/list").json()["tags"] == ["a", "b", "c", "v1"]


def test_unlisted_manifests_are_hidden_from_the_manifest_listing(client: TestClient, image: Image) -> None:
    _, digest = image
    _, second = push_image(client, REPO, "v2", seed="two")
    patch(client, f"{ACR}/_manifests/{digest}", listEnabled=False)

    listed = [m["digest"] for m in client.get(f"{ACR}/_manifests").json()["manifests"]]
    assert listed == [second]
    for order in ("timedesc", "timeasc"):
        ordered = client.get(f"{ACR}/_manifests", params={"orderby": order}).json()["manifests"]
        assert [m["digest"] for m in ordered] == [second]
    assert client.get(f"{ACR}/_manifests/{digest}").status_code == 200
    assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 200

    patch(client, f"{ACR}/_manifests/{digest}", listEnabled=True)
    assert len(client.get(f"{ACR}/_manifests").json()["manifests"]) == 2


def test_unlisted_repositories_are_hidden_from_both_catalogs(client: TestClient, image: Image) -> None:
    push_image(client, "aaa", "v1")
    push_image(client, "zzz", "v1")
    patch(client, ACR, listEnabled=False)

    assert client.get("/v2/_catalog").json()["repositories"] == ["aaa", "zzz"]
    assert client.get("/v2/_catalog", params={"n": 1, "last": "aaa"}).json()["repositories"] == ["zzz"]
    assert client.get("/acr/v1/_catalog").json()["repositories"] == ["aaa", "zzz"]
    # Hidden, not gone: its properties, tags and content are still there by name.
    assert client.get(ACR).json()["changeableAttributes"]["listEnabled"] is False
    assert [t["name"] for t in client.get(f"{ACR}/_tags").json()["tags"]] == ["keep", "v1"]
    assert client.get("/v2/team/app/manifests/v1").status_code == 200

    patch(client, ACR, listEnabled=True)
    assert client.get("/v2/_catalog").json()["repositories"] == ["aaa", "team/app", "zzz"]
    assert client.get("/acr/v1/_catalog").json()["repositories"] == ["aaa", "team/app", "zzz"]
