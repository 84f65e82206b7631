"""Manifests: ``GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>`` for all four formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.api.oci import (
    DOCKER_ACCEPT_LINES,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    TestClient,
    assert_error,
    canonical,
    descriptor,
    digest_of,
    image_manifest,
    index_manifest,
    push_blob,
    push_image,
    push_manifest,
)

REPO = "team/app"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Pushed:
    media_type: str
    body: bytes

    @property
    def digest(self) -> str:
        return digest_of(self.body)


def _image(client: TestClient, media_type: str, seed: str) -> Pushed:
    body, _ = push_image(client, REPO, None, seed=seed, media_type=media_type)
    return Pushed(media_type, body)


def prepare(client: TestClient, media_type: str) -> Pushed:
    """Everything a manifest of ``media_type`` needs is pushed; the manifest itself is not."""
    if media_type in (OCI_MANIFEST, DOCKER_MANIFEST):
        config = json.dumps({"architecture": "arm64", "os": "linux"}).encode()
        layer = b"a layer for " + media_type.encode()
        push_blob(client, REPO, config)
        push_blob(client, REPO, layer)
        return Pushed(media_type, canonical(image_manifest(config, [layer], media_type=media_type)))
    child_type = OCI_MANIFEST if media_type == OCI_INDEX else DOCKER_MANIFEST
    children = [_image(client, child_type, f"{media_type}-{i}") for i in range(2)]
    document = index_manifest([(c.media_type, c.body) for c in children], media_type=media_type)
    return Pushed(media_type, canonical(document))


ALL_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST]


@pytest.fixture(params=ALL_TYPES, ids=["oci-manifest", "oci-index", "docker-manifest", "docker-list"])
def manifest(request: pytest.FixtureRequest, client: TestClient) -> Pushed:
    return prepare(client, request.param)


# --- push and pull --------------------------------------------------------------------------


def test_put_by_tag_is_201_with_location_and_digest(client: TestClient, manifest: Pushed) -> None:
    response = push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v2/{REPO}/manifests/{manifest.digest}"
    assert response.headers["Docker-Content-Digest"] == manifest.digest
    assert "OCI-Subject" not in response.headers


@pytest.mark.parametrize("reference", ["v1", "digest"])
def test_get_returns_the_exact_bytes_with_type_and_digest(
    client: TestClient, manifest: Pushed, reference: str
) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)
    ref = manifest.digest if reference == "digest" else reference

    response = client.get(f"/v2/{REPO}/manifests/{ref}")

    assert response.status_code == 200
    assert response.content == manifest.body
    assert response.headers["content-type"] == manifest.media_type
    assert response.headers["Docker-Content-Digest"] == manifest.digest
    assert response.headers["Content-Length"] == str(len(manifest.body))
    assert response.headers["ETag"] == f'"{manifest.digest}"'


@pytest.mark.parametrize("reference", ["v1", "digest"])
def test_head_reports_type_length_and_digest(client: TestClient, manifest: Pushed, reference: str) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)
    ref = manifest.digest if reference == "digest" else reference

    response = client.head(f"/v2/{REPO}/manifests/{ref}")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == manifest.media_type
    assert response.headers["Docker-Content-Digest"] == manifest.digest
    assert response.headers["Content-Length"] == str(len(manifest.body))


def test_put_by_digest_stores_without_a_tag(client: TestClient, manifest: Pushed) -> None:
    response = push_manifest(client, REPO, manifest.digest, manifest.body, manifest.media_type)

    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == manifest.digest
    assert client.get(f"/v2/{REPO}/manifests/{manifest.digest}").content == manifest.body
    assert manifest.digest not in client.get(f"/v2/{REPO}/tags/list").json()["tags"]


def test_put_by_a_digest_that_does_not_match_the_body_is_400(client: TestClient, manifest: Pushed) -> None:
    wrong = digest_of(b"another manifest")

    response = push_manifest(client, REPO, wrong, manifest.body, manifest.media_type)

    entry = assert_error(response, 400, "DIGEST_INVALID")
    assert entry["detail"] == {"digest": wrong}
    assert_error(client.get(f"/v2/{REPO}/manifests/{manifest.digest}"), 404, "MANIFEST_UNKNOWN")


def test_put_by_sha512_digest(client: TestClient) -> None:
    pushed = prepare(client, OCI_MANIFEST)
    digest = digest_of(pushed.body, "sha512")

    response = push_manifest(client, REPO, digest, pushed.body, pushed.media_type)

    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == digest
    assert client.get(f"/v2/{REPO}/manifests/{digest}").content == pushed.body


def test_pushing_the_same_manifest_again_is_201(client: TestClient, manifest: Pushed) -> None:
    first = push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)
    again = push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)

    assert first.status_code == again.status_code == 201
    assert again.headers["Docker-Content-Digest"] == manifest.digest


def test_a_tag_moves_to_the_manifest_pushed_last(client: TestClient) -> None:
    _, first = push_image(client, REPO, "latest", seed="one")
    second_body, second = push_image(client, REPO, "latest", seed="two")

    response = client.get(f"/v2/{REPO}/manifests/latest")

    assert response.headers["Docker-Content-Digest"] == second
    assert response.content == second_body
    assert client.get(f"/v2/{REPO}/manifests/{first}").status_code == 200


def test_nested_repository_names_work(client: TestClient) -> None:
    repository = "a/b/c/d-e/f_g/h.i"
    body, digest = push_image(client, repository, "v1")

    assert client.get(f"/v2/{repository}/manifests/v1").content == body
    assert client.head(f"/v2/{repository}/manifests/{digest}").status_code == 200
    assert client.get(f"/v2/{repository}/tags/list").json() == {"name": repository, "tags": ["v1"]}


def test_content_type_may_be_omitted_when_the_body_declares_it(client: TestClient) -> None:
    pushed = prepare(client, DOCKER_MANIFEST)

    response = client.put(f"/v2/{REPO}/manifests/v1", content=pushed.body)

    assert response.status_code == 201
    assert client.get(f"/v2/{REPO}/manifests/v1").headers["content-type"] == DOCKER_MANIFEST


def test_oci_manifest_without_media_type_field_takes_the_content_type(client: TestClient) -> None:
    config, layer = b"{}", b"layer"
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    document = image_manifest(config, [layer])
    del document["mediaType"]
    body = canonical(document)

    response = push_manifest(client, REPO, "v1", body, OCI_MANIFEST)

    assert response.status_code == 201
    assert client.head(f"/v2/{REPO}/manifests/v1").headers["content-type"] == OCI_MANIFEST


def test_artifact_with_empty_config_and_artifact_type(client: TestClient) -> None:
    empty, payload = b"{}", b"an sbom"
    push_blob(client, REPO, empty)
    push_blob(client, REPO, payload)
    document = image_manifest(
        empty,
        [payload],
        config_type=OCI_EMPTY,
        layer_type="application/spdx+json",
        artifactType="application/vnd.example.sbom.v1",
    )

    response = push_manifest(client, REPO, "sbom", canonical(document), OCI_MANIFEST)

    assert response.status_code == 201


def test_foreign_layers_need_not_be_pushed(client: TestClient) -> None:
    config = b'{"os":"windows"}'
    push_blob(client, REPO, config)
    document = image_manifest(config, [])
    document["layers"] = [
        descriptor("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", b"windows base"),
        descriptor(OCI_LAYER, b"hosted elsewhere", urls=["https://example.com/layer"]),
    ]

    response = push_manifest(client, REPO, "win", canonical(document), OCI_MANIFEST)

    assert response.status_code == 201


def test_a_four_mebibyte_manifest_is_accepted(client: TestClient) -> None:
    """The spec: registries SHOULD accept manifests of at least 4 megabytes."""
    config, layer = b"{}", b"layer"
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    document = image_manifest(config, [layer], annotations={"padding": ""})
    padding = 4 * MiB - len(canonical(document))
    document["annotations"]["padding"] = "x" * padding
    body = canonical(document)
    assert len(body) == 4 * MiB

    response = push_manifest(client, REPO, "big", body, OCI_MANIFEST)

    assert response.status_code == 201
    assert client.get(f"/v2/{REPO}/manifests/big").content == body


def test_a_manifest_over_four_mebibytes_is_413_size_invalid(client: TestClient) -> None:
    """The spec: a registry enforcing a manifest size limit SHOULD answer 413 Payload Too Large."""
    config, layer = b"{}", b"layer"
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    document = image_manifest(config, [layer], annotations={"padding": "x" * (4 * MiB)})
    body = canonical(document)

    response = push_manifest(client, REPO, "big", body, OCI_MANIFEST)

    assert_error(response, 413, "SIZE_INVALID")
    assert_error(client.get(f"/v2/{REPO}/manifests/big"), 404, "MANIFEST_UNKNOWN")


def test_an_oversized_manifest_streamed_without_content_length_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"schemaVersion":2,"annotations":{"padding":"'
        for _ in range(5):
            yield b"x" * MiB
        yield b'"}}'

    response = client.put(
        f"/v2/{REPO}/manifests/big",
        content=chunks(),
        headers={"Content-Type": OCI_MANIFEST},
    )

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "SIZE_INVALID")


# --- content negotiation --------------------------------------------------------------------


def test_docker_accept_lines_admit_every_format(client: TestClient, manifest: Pushed) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)

    response = client.get(f"/v2/{REPO}/manifests/v1", headers=DOCKER_ACCEPT_LINES)

    assert response.status_code == 200
    assert response.headers["content-type"] == manifest.media_type
    assert response.content == manifest.body


@pytest.mark.parametrize(
    "accept",
    [
        "*/*",
        "application/*",
        "{type}",
        "{type}; q=0.9",
        "text/plain, {type}",
        "application/vnd.oci.image.index.v1+json,{type},application/json;q=0.1",
    ],
)
def test_accept_admitting_the_stored_type(client: TestClient, manifest: Pushed, accept: str) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)

    response = client.get(
        f"/v2/{REPO}/manifests/v1", headers={"Accept": accept.format(type=manifest.media_type)}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == manifest.media_type


def test_accept_excluding_the_stored_type_is_404_manifest_unknown(
    client: TestClient, manifest: Pushed
) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)
    others = [t for t in ALL_TYPES if t != manifest.media_type]

    response = client.get(f"/v2/{REPO}/manifests/v1", headers=[("Accept", t) for t in others])

    entry = assert_error(response, 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"mediaType": manifest.media_type}
    head = client.head(f"/v2/{REPO}/manifests/v1", headers={"Accept": others[0]})
    assert head.status_code == 404


# --- subject --------------------------------------------------------------------------------


def test_subject_is_echoed_in_oci_subject(client: TestClient) -> None:
    _, subject = push_image(client, REPO, "v1")
    empty = b"{}"
    push_blob(client, REPO, empty)
    document = image_manifest(
        empty,
        [],
        config_type=OCI_EMPTY,
        artifactType="application/vnd.example.signature",
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
    )

    response = push_manifest(client, REPO, digest_of(canonical(document)), canonical(document), OCI_MANIFEST)

    assert response.status_code == 201
    assert response.headers["OCI-Subject"] == subject


def test_subject_may_name_a_manifest_not_yet_pushed(client: TestClient) -> None:
    """The spec: a registry MUST accept a referrer before its subject exists."""
    missing = digest_of(b"a manifest pushed later")
    empty = b"{}"
    push_blob(client, REPO, empty)
    document = image_manifest(
        empty, [], config_type=OCI_EMPTY, subject={"mediaType": OCI_MANIFEST, "digest": missing, "size": 9}
    )

    response = push_manifest(client, REPO, "early", canonical(document), OCI_MANIFEST)

    assert response.status_code == 201
    assert response.headers["OCI-Subject"] == missing


def test_index_with_subject_is_echoed(client: TestClient) -> None:
    child = _image(client, OCI_MANIFEST, "child")
    _, subject = push_image(client, REPO, "v1")
    document = index_manifest(
        [(child.media_type, child.body)],
        artifactType="application/vnd.example.bundle",
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
    )

    response = push_manifest(client, REPO, digest_of(canonical(document)), canonical(document), OCI_INDEX)

    assert response.status_code == 201
    assert response.headers["OCI-Subject"] == subject


# --- references that must exist -------------------------------------------------------------


def test_manifest_referencing_a_missing_layer_is_400_manifest_blob_unknown(client: TestClient) -> None:
    config, layer = b"{}", b"never pushed"
    push_blob(client, REPO, config)
    body = canonical(image_manifest(config, [layer]))

    response = push_manifest(client, REPO, "v1", body, OCI_MANIFEST)

    entry = assert_error(response, 400, "MANIFEST_BLOB_UNKNOWN")
    assert entry["detail"] == {"digest": digest_of(layer)}
    assert_error(client.get(f"/v2/{REPO}/manifests/v1"), 404, "MANIFEST_UNKNOWN")
    assert client.get(f"/v2/{REPO}/tags/list").json()["tags"] == []


def test_manifest_referencing_a_missing_config_is_400(client: TestClient) -> None:
    layer = b"pushed layer"
    push_blob(client, REPO, layer)
    body = canonical(image_manifest(b'{"missing":true}', [layer]))

    entry = assert_error(push_manifest(client, REPO, "v1", body, OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN")

    assert entry["detail"] == {"digest": digest_of(b'{"missing":true}')}


def test_blobs_of_another_repository_do_not_count(client: TestClient) -> None:
    config, layer = b"{}", b"elsewhere"
    push_blob(client, "team/elsewhere", config)
    push_blob(client, "team/elsewhere", layer)
    body = canonical(image_manifest(config, [layer]))

    response = push_manifest(client, REPO, "v1", body, OCI_MANIFEST)

    assert_error(response, 400, "MANIFEST_BLOB_UNKNOWN")
    assert client.get(f"/v2/{REPO}/manifests/v1").status_code == 404


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_index_referencing_a_missing_manifest_is_400(client: TestClient, media_type: str) -> None:
    child_type = OCI_MANIFEST if media_type == OCI_INDEX else DOCKER_MANIFEST
    present = _image(client, child_type, "present")
    absent = canonical(image_manifest(b"{}", [], media_type=child_type))
    document = index_manifest([(child_type, present.body), (child_type, absent)], media_type=media_type)

    response = push_manifest(client, REPO, "multi", canonical(document), media_type)

    entry = assert_error(response, 400, "MANIFEST_BLOB_UNKNOWN")
    assert entry["detail"] == {"digest": digest_of(absent)}


# --- invalid manifests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", OCI_MANIFEST),
        (b"\xff\xfe\x00", OCI_MANIFEST),
        (b"", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (b'"a string"', OCI_MANIFEST),
        (b'{"schemaVersion":1,"mediaType":"' + OCI_MANIFEST.encode() + b'"}', OCI_MANIFEST),
        (b'{"schemaVersion":"2"}', OCI_MANIFEST),
        (b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'"}', OCI_MANIFEST),
        (b'{"schemaVersion":2,"config":{"mediaType":"x","size":1}}', OCI_MANIFEST),
        (b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:bad","size":1}}', OCI_MANIFEST),
        (
            b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:' + b"0" * 64 + b'","size":-1}}',
            OCI_MANIFEST,
        ),
        (
            b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:' + b"0" * 64 + b'","size":1},'
            b'"layers":{}}',
            OCI_MANIFEST,
        ),
        (b'{"schemaVersion":2,"manifests":{}}', OCI_INDEX),
        (b'{"schemaVersion":2,"manifests":[{"mediaType":"x"}]}', OCI_INDEX),
        (b'{"schemaVersion":2,"manifests":[],"annotations":{"k":1}}', OCI_INDEX),
        (b'{"schemaVersion":2,"manifests":[],"artifactType":7}', OCI_INDEX),
        (b'{"schemaVersion":2,"manifests":[],"subject":"sha256:abc"}', OCI_INDEX),
        (b'{"schemaVersion":2,"mediaType":5,"manifests":[]}', OCI_INDEX),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "empty",
        "array",
        "string",
        "schema-1",
        "schema-version-string",
        "no-config",
        "config-without-digest",
        "config-bad-digest",
        "negative-size",
        "layers-not-a-list",
        "manifests-not-a-list",
        "child-not-a-descriptor",
        "annotation-not-a-string",
        "artifact-type-not-a-string",
        "subject-not-a-descriptor",
        "media-type-not-a-string",
    ],
)
def test_malformed_manifest_is_400_manifest_invalid(
    client: TestClient, body: bytes, content_type: str
) -> None:
    response = push_manifest(client, REPO, "bad", body, content_type)

    assert_error(response, 400, "MANIFEST_INVALID")
    assert client.get(f"/v2/{REPO}/manifests/bad").status_code == 404


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.example.unknown+json",
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "text/plain",
    ],
)
def test_unknown_media_type_is_400_manifest_invalid(client: TestClient, media_type: str) -> None:
    config = b"{}"
    push_blob(client, REPO, config)
    in_body = canonical({**image_manifest(config, []), "mediaType": media_type})
    in_header = canonical({k: v for k, v in image_manifest(config, []).items() if k != "mediaType"})

    assert_error(push_manifest(client, REPO, "v1", in_body, OCI_MANIFEST), 400, "MANIFEST_INVALID")
    assert_error(client.put(f"/v2/{REPO}/manifests/v1", content=in_body), 400, "MANIFEST_INVALID")
    assert_error(push_manifest(client, REPO, "v1", in_header, media_type), 400, "MANIFEST_INVALID")


def test_content_type_contradicting_the_body_is_400(client: TestClient) -> None:
    pushed = prepare(client, OCI_MANIFEST)

    response = push_manifest(client, REPO, "v1", pushed.body, DOCKER_MANIFEST)

    assert_error(response, 400, "MANIFEST_INVALID")


# --- delete ---------------------------------------------------------------------------------


def test_delete_by_digest_removes_the_manifest_and_its_tags(client: TestClient, manifest: Pushed) -> None:
    for tag in ("v1", "latest"):
        push_manifest(client, REPO, tag, manifest.body, manifest.media_type)
    _, other = push_image(client, REPO, "other", seed="kept")

    response = client.delete(f"/v2/{REPO}/manifests/{manifest.digest}")

    assert response.status_code == 202
    assert_error(client.get(f"/v2/{REPO}/manifests/{manifest.digest}"), 404, "MANIFEST_UNKNOWN")
    assert_error(client.get(f"/v2/{REPO}/manifests/v1"), 404, "MANIFEST_UNKNOWN")
    assert client.head(f"/v2/{REPO}/manifests/latest").status_code == 404
    assert client.get(f"/v2/{REPO}/tags/list").json()["tags"] == ["other"]
    assert client.get(f"/v2/{REPO}/manifests/{other}").status_code == 200


def test_delete_by_tag_removes_only_the_tag(client: TestClient, manifest: Pushed) -> None:
    for tag in ("v1", "latest"):
        push_manifest(client, REPO, tag, manifest.body, manifest.media_type)

    response = client.delete(f"/v2/{REPO}/manifests/v1")

    assert response.status_code == 202
    assert_error(client.get(f"/v2/{REPO}/manifests/v1"), 404, "MANIFEST_UNKNOWN")
    assert client.get(f"/v2/{REPO}/manifests/latest").content == manifest.body
    assert client.get(f"/v2/{REPO}/manifests/{manifest.digest}").content == manifest.body
    assert client.get(f"/v2/{REPO}/tags/list").json()["tags"] == ["latest"]


def test_delete_of_unknown_references(client: TestClient) -> None:
    push_image(client, REPO, "v1")
    unknown = digest_of(b"no such manifest")

    entry = assert_error(client.delete(f"/v2/{REPO}/manifests/{unknown}"), 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Digest": unknown}
    entry = assert_error(client.delete(f"/v2/{REPO}/manifests/nope"), 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Tag": "nope"}
    entry = assert_error(client.delete("/v2/team/nothing/manifests/v1"), 404, "NAME_UNKNOWN")
    assert entry["detail"] == {"name": "team/nothing"}


def test_a_deleted_manifest_can_be_pushed_again(client: TestClient, manifest: Pushed) -> None:
    push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)
    client.delete(f"/v2/{REPO}/manifests/{manifest.digest}")

    response = push_manifest(client, REPO, "v1", manifest.body, manifest.media_type)

    assert response.status_code == 201
    assert client.get(f"/v2/{REPO}/manifests/v1").content == manifest.body


# --- unknown and invalid references ---------------------------------------------------------


def test_unknown_references_are_404(client: TestClient) -> None:
    push_image(client, REPO, "v1")
    unknown = digest_of(b"no such manifest")

    entry = assert_error(client.get(f"/v2/{REPO}/manifests/nope"), 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Tag": "nope"}
    entry = assert_error(client.get(f"/v2/{REPO}/manifests/{unknown}"), 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Digest": unknown}
    entry = assert_error(client.get("/v2/team/nothing/manifests/v1"), 404, "NAME_UNKNOWN")
    assert entry["detail"] == {"name": "team/nothing"}


@pytest.mark.parametrize("tag", ["-leading-dash", ".leading-dot", "t" * 129, "bad!tag", "a+b", "ünïcode"])
def test_invalid_tag_is_400_tag_invalid_on_put_and_delete(client: TestClient, tag: str) -> None:
    pushed = prepare(client, OCI_MANIFEST)

    put = push_manifest(client, REPO, tag, pushed.body, pushed.media_type)
    delete = client.delete(f"/v2/{REPO}/manifests/{tag}")

    for response in (put, delete):
        entry = assert_error(response, 400, "TAG_INVALID")
        assert entry["detail"] == {"tag": tag}


@pytest.mark.parametrize("tag", [".INVALID_MANIFEST_NAME", "-leading-dash", "t" * 129, "bad!tag", "ünïcode"])
def test_get_and_head_of_an_invalid_tag_are_404_manifest_unknown(client: TestClient, tag: str) -> None:
    """The OCI conformance suite's expectation: the spec lists only 404 for a manifest GET/HEAD."""
    prepare(client, OCI_MANIFEST)

    get = client.get(f"/v2/{REPO}/manifests/{tag}")
    head = client.head(f"/v2/{REPO}/manifests/{tag}")

    entry = assert_error(get, 404, "MANIFEST_UNKNOWN")
    assert entry["detail"] == {"Tag": tag}
    assert head.status_code == 404
    assert head.content == b""


@pytest.mark.parametrize("tag", ["t" * 128, "_underscore", "UPPER.case-1_2", "0"])
def test_tags_at_the_edges_of_the_grammar_are_accepted(client: TestClient, tag: str) -> None:
    pushed = prepare(client, OCI_MANIFEST)

    assert push_manifest(client, REPO, tag, pushed.body, pushed.media_type).status_code == 201
    assert client.get(f"/v2/{REPO}/manifests/{tag}").content == pushed.body


@pytest.mark.parametrize("reference", ["sha256:totallywrong", "sha256:" + "0" * 63, "sha1:" + "0" * 40, ":"])
def test_garbage_digest_reference_is_400_digest_invalid(client: TestClient, reference: str) -> None:
    pushed = prepare(client, OCI_MANIFEST)

    for response in (
        push_manifest(client, REPO, reference, pushed.body, pushed.media_type),
        client.get(f"/v2/{REPO}/manifests/{reference}"),
        client.delete(f"/v2/{REPO}/manifests/{reference}"),
    ):
        assert_error(response, 400, "DIGEST_INVALID")


# --- values that must be storable on every engine -------------------------------------------


@pytest.mark.parametrize(
    "artifact_type",
    ["application/vnd.example\u0000x", "application/\ud800", "application/" + "x" * 250, "line\nbreak"],
    ids=["nul", "lone-surrogate", "too-long", "control-character"],
)
def test_unstorable_artifact_type_is_400_manifest_invalid(client: TestClient, artifact_type: str) -> None:
    empty = b"{}"
    push_blob(client, REPO, empty)
    document = image_manifest(empty, [], config_type=OCI_EMPTY, artifactType=artifact_type)
    body = json.dumps(document).encode()  # escapes NUL and the surrogate as \\u sequences

    response = push_manifest(client, REPO, "odd", body, OCI_MANIFEST)

    assert_error(response, 400, "MANIFEST_INVALID")
    assert client.get(f"/v2/{REPO}/manifests/odd").status_code == 404


def test_unstorable_config_media_type_is_400(client: TestClient) -> None:
    config = b"{}"
    push_blob(client, REPO, config)
    body = json.dumps(image_manifest(config, [], config_type="application/x\u0000y")).encode()

    assert_error(push_manifest(client, REPO, "odd", body, OCI_MANIFEST), 400, "MANIFEST_INVALID")


def test_odd_platform_values_are_stored_verbatim(client: TestClient) -> None:
    """Platform fields are listing metadata only: odd ones are not recorded, the push succeeds."""
    children = [_image(client, OCI_MANIFEST, f"odd-{i}") for i in range(3)]
    document = index_manifest([(c.media_type, c.body) for c in children])
    document["manifests"][0]["platform"] = {"os": "linux", "architecture": "a" * 100}
    document["manifests"][1]["platform"] = {"os": "linux\u0000", "architecture": "\ud800"}
    document["manifests"][2]["platform"] = {"os": ["not", "a", "string"], "architecture": 64}
    body = json.dumps(document).encode()

    response = push_manifest(client, REPO, "odd", body, OCI_INDEX)

    assert response.status_code == 201, response.text
    assert client.get(f"/v2/{REPO}/manifests/odd").content == body


def test_odd_values_in_the_image_config_do_not_block_the_push(client: TestClient) -> None:
    config = json.dumps({"architecture": "x" * 100, "os": "linux\u0000"}).encode()
    layer = b"layer"
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    body = canonical(image_manifest(config, [layer]))

    response = push_manifest(client, REPO, "odd", body, OCI_MANIFEST)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body", [b"9" * 5000, b"[" * 100_000, b'{"schemaVersion":2,"n":' + b"1" * 5000 + b"}"]
)
def test_pathological_json_is_400_manifest_invalid(client: TestClient, body: bytes) -> None:
    assert_error(push_manifest(client, REPO, "odd", body, OCI_MANIFEST), 400, "MANIFEST_INVALID")
