"""berth.content.manifest_format: parsing, validation and content negotiation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from berth.content.manifest_format import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MAX_DESCRIPTORS,
    MAX_MANIFEST_BYTES,
    MAX_SIZE,
    OCI_INDEX,
    OCI_MANIFEST,
    accepts,
    parse,
    platform_value,
)
from berth.errors import WireError

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def image(**extra: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "digest": D1, "size": 10},
        "layers": [{"mediaType": LAYER_TYPE, "digest": D2, "size": 20}],
        **extra,
    }


def index(**extra: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": D1,
                "size": 1,
                "platform": {"os": "linux", "architecture": "amd64"},
            },
            {"mediaType": OCI_MANIFEST, "digest": D2, "size": 2},
        ],
        **extra,
    }


def invalid(body: bytes, content_type: str | None = OCI_MANIFEST) -> str:
    with pytest.raises(WireError) as raised:
        parse(body, content_type)
    assert raised.value.error.code == "MANIFEST_INVALID"
    assert raised.value.http_status == 400
    return raised.value.text


# --- image manifests ------------------------------------------------------------------------


def test_image_manifest_lists_config_and_layers_as_required_blobs() -> None:
    parsed = parse(encode(image()), OCI_MANIFEST)

    assert parsed.media_type == OCI_MANIFEST
    assert not parsed.is_index
    assert parsed.config is not None
    assert parsed.config.digest == D1
    assert [layer.digest for layer in parsed.layers] == [D2]
    assert parsed.required_blobs == [D1, D2]
    assert parsed.children == ()
    assert parsed.content_size == 30
    assert parsed.subject is None


def test_docker_manifest() -> None:
    document = image(mediaType=DOCKER_MANIFEST)

    assert parse(encode(document), DOCKER_MANIFEST).media_type == DOCKER_MANIFEST


def test_required_blobs_are_deduplicated_in_order() -> None:
    document = image()
    document["layers"] = [
        {"mediaType": LAYER_TYPE, "digest": D2, "size": 2},
        {"mediaType": LAYER_TYPE, "digest": D1, "size": 1},
        {"mediaType": LAYER_TYPE, "digest": D2, "size": 2},
    ]

    assert parse(encode(document), OCI_MANIFEST).required_blobs == [D1, D2]


@pytest.mark.parametrize(
    "layer",
    [
        {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": D3, "size": 3},
        {
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": D3,
            "size": 3,
        },
        {"mediaType": LAYER_TYPE, "digest": D3, "size": 3, "urls": ["https://example.com/l"]},
    ],
)
def test_foreign_layers_are_not_required(layer: dict[str, Any]) -> None:
    document = image()
    document["layers"].append(layer)

    parsed = parse(encode(document), OCI_MANIFEST)

    assert parsed.required_blobs == [D1, D2]
    assert parsed.layers[-1].foreign


def test_artifact_type_defaults_to_the_config_media_type() -> None:
    assert parse(encode(image()), OCI_MANIFEST).artifact_type == CONFIG_TYPE
    explicit = parse(encode(image(artifactType="application/vnd.example")), OCI_MANIFEST)
    assert explicit.artifact_type == "application/vnd.example"


def test_subject_and_annotations() -> None:
    document = image(
        subject={"mediaType": OCI_MANIFEST, "digest": D3, "size": 3}, annotations={"org.example": "yes"}
    )

    parsed = parse(encode(document), OCI_MANIFEST)

    assert parsed.subject == D3
    assert parsed.annotations == {"org.example": "yes"}


def test_layers_may_be_absent() -> None:
    document = image()
    del document["layers"]

    assert parse(encode(document), OCI_MANIFEST).required_blobs == [D1]


# --- indexes --------------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_index_lists_children_with_platforms(media_type: str) -> None:
    parsed = parse(encode(index(mediaType=media_type)), media_type)

    assert parsed.is_index
    assert parsed.config is None
    assert parsed.required_blobs == []
    assert [c.digest for c in parsed.children] == [D1, D2]
    assert (parsed.children[0].platform_os, parsed.children[0].platform_architecture) == ("linux", "amd64")
    assert (parsed.children[1].platform_os, parsed.children[1].platform_architecture) == (None, None)


def test_index_artifact_type_is_only_what_it_declares() -> None:
    assert parse(encode(index()), OCI_INDEX).artifact_type is None
    assert parse(encode(index(artifactType="application/x")), OCI_INDEX).artifact_type == "application/x"


# --- media type ---------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "", "application/json", "application/octet-stream"])
def test_body_media_type_is_used_when_the_header_says_nothing(content_type: str | None) -> None:
    assert parse(encode(image(mediaType=DOCKER_MANIFEST)), content_type).media_type == DOCKER_MANIFEST


def test_header_media_type_is_used_when_the_body_has_none() -> None:
    document = image()
    del document["mediaType"]

    assert parse(encode(document), f"{OCI_MANIFEST}; charset=utf-8").media_type == OCI_MANIFEST


@pytest.mark.parametrize(("document", "expected"), [(image(), OCI_MANIFEST), (index(), OCI_INDEX)])
def test_media_type_is_inferred_from_the_shape(document: dict[str, Any], expected: str) -> None:
    del document["mediaType"]

    assert parse(encode(document), None).media_type == expected


def test_header_and_body_must_agree() -> None:
    message = invalid(encode(image()), DOCKER_MANIFEST)

    assert "does not match Content-Type" in message


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ],
)
def test_docker_schema_1_is_refused_with_a_reason(media_type: str) -> None:
    assert "schema 1" in invalid(encode(image(mediaType=media_type)), None)


def test_unknown_media_type_is_refused() -> None:
    assert "unsupported manifest media type" in invalid(encode(image(mediaType="application/x")), None)


# --- invalid documents ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not valid JSON"),
        (b"\xff", "must be UTF-8"),
        (b"[1]", "must be a JSON object"),
        (encode({"schemaVersion": 1}), "schemaVersion must be 2"),
        (encode({**image(), "schemaVersion": True}), "schemaVersion must be 2"),
        (encode({**image(), "config": None}), "config must be a descriptor"),
        (encode({**image(), "config": {"digest": D1, "size": 1}}), "config.mediaType is missing"),
        (encode({**image(), "config": {"mediaType": "x", "size": 1}}), "config.digest is missing"),
        (encode({**image(), "config": {"mediaType": "x", "digest": "sha256:x", "size": 1}}), "config.digest"),
        (encode({**image(), "config": {"mediaType": "x", "digest": D1, "size": True}}), "config.size"),
        (encode({**image(), "config": {"mediaType": "x", "digest": D1, "size": 1.5}}), "config.size"),
        (encode({**image(), "layers": [{"mediaType": "x", "digest": D1}]}), "layers[0].size"),
        (encode({**image(), "layers": "x"}), "layers must be a list"),
        (encode({**image(), "annotations": ["x"]}), "annotations"),
        (encode({**image(), "artifactType": 1}), "artifactType must be a string"),
        (encode({**image(), "subject": {"mediaType": "x"}}), "subject.digest is missing"),
    ],
)
def test_invalid_documents_name_the_problem(body: bytes, reason: str) -> None:
    assert reason in invalid(body)


def test_index_children_are_validated() -> None:
    document = index()
    document["manifests"][1] = {"mediaType": OCI_MANIFEST, "digest": "sha256:short", "size": 1}

    assert "manifests[1].digest" in invalid(encode(document), OCI_INDEX)


def test_oversized_body_is_413_size_invalid() -> None:
    body = encode(image(annotations={"pad": "x" * MAX_MANIFEST_BYTES}))

    with pytest.raises(WireError) as raised:
        parse(body, OCI_MANIFEST)

    assert raised.value.error.code == "SIZE_INVALID"
    assert raised.value.http_status == 413


# --- content negotiation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        (None, OCI_MANIFEST, True),
        ("", OCI_MANIFEST, True),
        ("*/*", OCI_MANIFEST, True),
        ("application/*", DOCKER_MANIFEST, True),
        (OCI_MANIFEST, OCI_MANIFEST, True),
        (f"{OCI_MANIFEST};q=0.5", OCI_MANIFEST, True),
        (f"{DOCKER_MANIFEST}, {OCI_INDEX}", OCI_INDEX, True),
        (f"{DOCKER_MANIFEST}, {OCI_INDEX}", OCI_MANIFEST, False),
        (OCI_MANIFEST.upper(), OCI_MANIFEST, True),
        ("text/plain", OCI_MANIFEST, False),
        ("application/json", OCI_MANIFEST, False),
    ],
)
def test_accepts(accept: str | None, media_type: str, expected: bool) -> None:
    assert accepts(accept, media_type) is expected


# --- values the metadata database must be able to hold -------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"9" * 5000, b"[" * 100_000, b'{"schemaVersion": 2, "n": ' + b"1" * 5000 + b"}"],
    ids=["huge-integer", "deep-nesting", "huge-integer-inside"],
)
def test_pathological_json_is_manifest_invalid(body: bytes) -> None:
    assert "not valid JSON" in invalid(body)


@pytest.mark.parametrize(
    "artifact_type", ["application/x\u0000y", "application/\ud800", "a" * 256, "tab\there"]
)
def test_unstorable_artifact_types_are_refused(artifact_type: str) -> None:
    assert "artifact type" in invalid(json.dumps(image(artifactType=artifact_type)).encode())


def test_unstorable_config_media_type_is_refused_as_the_artifact_type() -> None:
    document = image()
    document["config"]["mediaType"] = "application/" + "x" * 250

    assert "artifact type" in invalid(encode(document))


def test_an_artifact_type_of_255_characters_is_fine() -> None:
    artifact_type = "application/" + "x" * 243

    assert parse(encode(image(artifactType=artifact_type)), OCI_MANIFEST).artifact_type == artifact_type


def test_an_empty_artifact_type_counts_as_missing() -> None:
    """The spec: an empty or missing artifactType of an image manifest is config.mediaType."""
    assert parse(encode(image(artifactType="")), OCI_MANIFEST).artifact_type == CONFIG_TYPE
    assert parse(encode(index(artifactType="")), OCI_INDEX).artifact_type is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("amd64", "amd64"),
        ("x" * 50, "x" * 50),
        ("x" * 51, None),
        ("", None),
        ("linux\u0000", None),
        ("\ud800", None),
        (64, None),
        (None, None),
        (["linux"], None),
    ],
)
def test_platform_values_are_recorded_only_when_storable(value: object, expected: str | None) -> None:
    assert platform_value(value) == expected


def test_odd_platform_values_do_not_make_an_index_invalid() -> None:
    document = index()
    document["manifests"][0]["platform"] = {"os": "linux\u0000", "architecture": "a" * 99}

    parsed = parse(json.dumps(document).encode(), OCI_INDEX)

    assert (parsed.children[0].platform_os, parsed.children[0].platform_architecture) == (None, None)


# --- encodings, sizes and the descriptor bound (issue 8, findings 5, 10 and 12) ---------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"])
def test_only_utf8_without_a_bom_is_a_manifest(encoding: str) -> None:
    assert "UTF-8" in invalid(json.dumps(image()).encode(encoding))


def test_utf8_text_beyond_ascii_is_fine() -> None:
    body = json.dumps(image(annotations={"title": "grüße 世界"}), ensure_ascii=False).encode()

    assert parse(body, None).annotations == {"title": "grüße 世界"}


@pytest.mark.parametrize("size", [MAX_SIZE + 1, 2**64, -1])
@pytest.mark.parametrize("field", ["config", "layers", "subject"])
def test_sizes_outside_int64_are_refused(field: str, size: int) -> None:
    document = image(subject={"mediaType": OCI_MANIFEST, "digest": D3, "size": 1})
    target = document[field][0] if field == "layers" else document[field]
    target["size"] = size

    assert f"{field}{'[0]' if field == 'layers' else ''}.size" in invalid(encode(document))


def test_the_largest_int64_size_is_accepted() -> None:
    document = image()
    document["config"]["size"] = 0
    document["layers"][0]["size"] = MAX_SIZE

    assert parse(encode(document), None).content_size == MAX_SIZE


def test_sizes_that_add_up_past_int64_are_refused() -> None:
    document = image()
    document["layers"] = [{"mediaType": LAYER_TYPE, "digest": D2, "size": 2**62}] * 2

    assert "add up" in invalid(encode(document))


@pytest.mark.parametrize(("key", "media_type"), [("layers", OCI_MANIFEST), ("manifests", OCI_INDEX)])
def test_at_most_max_descriptors(key: str, media_type: str) -> None:
    entry = {"mediaType": OCI_MANIFEST if key == "manifests" else LAYER_TYPE, "digest": D2, "size": 1}
    document = image() if key == "layers" else index()
    document[key] = [entry] * MAX_DESCRIPTORS

    assert len(getattr(parse(encode(document), media_type), "layers" if key == "layers" else "children")) == (
        MAX_DESCRIPTORS
    )
    document[key] = [entry] * (MAX_DESCRIPTORS + 1)
    assert f"at most {MAX_DESCRIPTORS}" in invalid(encode(document), media_type)
