"""Manifests that are not what a registry can store or a client can read are refused.

- descriptor sizes must fit the signed 64-bit columns they are stored in, alone and summed
  (issue 8, finding 5: 2**63 reached SQLite as an OverflowError);
- the body must be UTF-8 JSON without a byte order mark (finding 10: Go clients cannot read
  UTF-16, UTF-32 or a BOM);
- a manifest carries at most ``MAX_DESCRIPTORS`` descriptors, and one that names unknown
  content is refused before the registry's write lock is taken (finding 12: 26,000 unknown
  children held the lock for seconds).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from berth.app import BerthApp
from berth.content.manifest_format import MAX_DESCRIPTORS
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from tests.api.oci import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
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
CONFIG = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
LAYER = b"the one layer"


def _pushed_blobs(client: TestClient) -> None:
    push_blob(client, REPO, CONFIG)
    push_blob(client, REPO, LAYER)


def _image(**changes: Any) -> dict[str, Any]:
    document = image_manifest(CONFIG, [LAYER])
    document.update(changes)
    return document


def _assert_not_stored(client: TestClient, body: bytes) -> None:
    assert_error(client.get(f"/v2/{REPO}/manifests/{digest_of(body)}"), 404, "MANIFEST_UNKNOWN")


# --- sizes (finding 5) ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2**63, 2**64, 10**30, -1])
@pytest.mark.parametrize("where", ["config", "layer", "child", "subject"])
def test_a_descriptor_size_outside_int64_is_manifest_invalid(
    client: TestClient, where: str, size: int
) -> None:
    _pushed_blobs(client)
    if where == "child":
        child = canonical(_image())
        assert push_manifest(client, REPO, digest_of(child), child, OCI_MANIFEST).status_code == 201
        entry = {**descriptor(OCI_MANIFEST, child), "size": size}
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
        media_type = OCI_INDEX
    else:
        document, media_type = _image(), OCI_MANIFEST
        if where == "config":
            document["config"]["size"] = size
        elif where == "layer":
            document["layers"][0]["size"] = size
        else:
            document["subject"] = {**descriptor(OCI_MANIFEST, b"{}"), "size": size}
    body = canonical(document)

    response = push_manifest(client, REPO, "v1", body, media_type)

    entry = assert_error(response, 400, "MANIFEST_INVALID")
    assert "size" in entry["message"]
    _assert_not_stored(client, body)


def test_layer_sizes_adding_up_past_int64_are_manifest_invalid(client: TestClient) -> None:
    _pushed_blobs(client)
    document = _image()
    document["layers"] = [{**document["layers"][0], "size": 2**62}, {**document["layers"][0], "size": 2**62}]
    body = canonical(document)

    response = push_manifest(client, REPO, "v1", body, OCI_MANIFEST)

    assert "add up" in assert_error(response, 400, "MANIFEST_INVALID")["message"]
    _assert_not_stored(client, body)


def test_the_largest_int64_size_is_stored_and_listed(client: TestClient) -> None:
    _pushed_blobs(client)
    document = _image()
    document["config"]["size"] = 0
    document["layers"][0]["size"] = 2**63 - 1
    body = canonical(document)

    assert push_manifest(client, REPO, "v1", body, OCI_MANIFEST).status_code == 201

    shown = client.get(f"/acr/v1/{REPO}/_manifests/{digest_of(body)}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["manifest"]["imageSize"] == 2**63 - 1


# --- encodings (finding 10) -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "utf-8-sig"])
def test_a_manifest_that_is_not_plain_utf8_is_manifest_invalid(client: TestClient, encoding: str) -> None:
    _pushed_blobs(client)
    body = json.dumps(_image()).encode(encoding)

    response = push_manifest(client, REPO, "v1", body, OCI_MANIFEST)

    assert "UTF-8" in assert_error(response, 400, "MANIFEST_INVALID")["message"]
    _assert_not_stored(client, body)
    assert_error(client.get(f"/v2/{REPO}/manifests/v1"), 404, "MANIFEST_UNKNOWN")


def test_a_utf8_manifest_with_non_ascii_text_is_stored_byte_for_byte(client: TestClient) -> None:
    _pushed_blobs(client)
    body = json.dumps(_image(annotations={"title": "grüße, 世界"}), ensure_ascii=False).encode("utf-8")

    assert push_manifest(client, REPO, "v1", body, OCI_MANIFEST).status_code == 201

    assert client.get(f"/v2/{REPO}/manifests/v1").content == body


# --- descriptor bound and the write lock (finding 12) ---------------------------------------


def test_an_image_may_carry_the_bound_of_layers_but_not_one_more(client: TestClient) -> None:
    _pushed_blobs(client)
    layer = descriptor(OCI_LAYER, LAYER)
    at_bound = canonical(_image(layers=[layer] * MAX_DESCRIPTORS))
    past_bound = canonical(_image(layers=[layer] * (MAX_DESCRIPTORS + 1)))

    accepted = push_manifest(client, REPO, "full", at_bound, OCI_MANIFEST)
    refused = push_manifest(client, REPO, "over", past_bound, OCI_MANIFEST)

    assert accepted.status_code == 201, accepted.text
    message = assert_error(refused, 400, "MANIFEST_INVALID")["message"]
    assert f"at most {MAX_DESCRIPTORS}" in message
    assert f"{MAX_DESCRIPTORS + 1} descriptors" in message


def test_an_index_past_the_bound_is_manifest_invalid(client: TestClient) -> None:
    child = descriptor(OCI_MANIFEST, b'{"unknown": true}')
    body = canonical(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child] * (MAX_DESCRIPTORS + 1)}
    )

    response = push_manifest(client, REPO, "many", body, OCI_INDEX)

    assert f"at most {MAX_DESCRIPTORS}" in assert_error(response, 400, "MANIFEST_INVALID")["message"]


def test_an_index_of_unknown_children_is_refused_while_another_writer_holds_the_lock(
    app: BerthApp, client: TestClient
) -> None:
    """Refused from a read: the answer comes while a concurrent write transaction on the same
    repository is still open (before the fix the PUT queued behind it for the lock)."""
    push_image(client, REPO, "v1")
    db = app.services.db
    registry = db.read_sync(registry_rows.get_by_name, "default")
    assert registry is not None
    repo = db.read_sync(repository_rows.get, registry.id, REPO)
    assert repo is not None
    unknown = [descriptor(OCI_MANIFEST, f'{{"child": {i}}}'.encode()) for i in range(MAX_DESCRIPTORS)]
    body = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": unknown})
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold(conn: Any) -> None:
        repository_rows.touch(conn, repo.id)  # the row every manifest write of the repository updates
        holding.set()
        release.wait(timeout=30)
        order.append("writer committed")

    writer = threading.Thread(target=db.write_sync, args=(hold,))
    writer.start()
    assert holding.wait(timeout=30)
    try:
        response = push_manifest(client, REPO, "many", body, OCI_INDEX)
        order.append("index answered")
    finally:
        release.set()
        writer.join()

    assert order == ["index answered", "writer committed"]
    entry = assert_error(response, 400, "MANIFEST_BLOB_UNKNOWN")
    assert entry["detail"] == {"digest": unknown[0]["digest"]}


def test_a_config_that_is_not_pushed_is_still_manifest_blob_unknown(client: TestClient) -> None:
    push_blob(client, REPO, LAYER)
    body = canonical(image_manifest(b"never pushed", [LAYER]))

    entry = assert_error(push_manifest(client, REPO, "v1", body, OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN")
    assert entry["detail"] == {"digest": digest_of(b"never pushed")}
    assert OCI_CONFIG in body.decode()
