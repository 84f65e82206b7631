"""``GET /v2/<name>/referrers/<digest>``: manifests whose ``subject`` is the digest (OCI 1.1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.oci import (
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    TestClient,
    assert_error,
    canonical,
    digest_of,
    image_manifest,
    index_manifest,
    push_blob,
    push_image,
    push_manifest,
)

REPO = "team/app"
SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/spdx+json"


def referrer(
    client: TestClient,
    subject: str,
    artifact_type: str | None,
    *,
    payload: bytes = b"payload",
    annotations: dict[str, str] | None = None,
    repository: str = REPO,
    tag: str | None = None,
) -> tuple[str, int, dict[str, Any]]:
    """Push an artifact manifest referring to ``subject``; returns (digest, size, document)."""
    empty = b"{}"
    push_blob(client, repository, empty)
    push_blob(client, repository, payload)
    extra: dict[str, Any] = {"subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 100}}
    if artifact_type is not None:
        extra["artifactType"] = artifact_type
    if annotations:
        extra["annotations"] = annotations
    document = image_manifest(
        empty, [payload], config_type=OCI_EMPTY, layer_type="application/octet-stream", **extra
    )
    body = canonical(document)
    response = push_manifest(client, repository, tag or digest_of(body), body, OCI_MANIFEST)
    assert response.status_code == 201, response.text
    assert response.headers["OCI-Subject"] == subject
    return digest_of(body), len(body), document


@pytest.fixture
def subject(client: TestClient) -> str:
    return push_image(client, REPO, "v1")[1]


def listing(client: TestClient, subject: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/v2/{REPO}/referrers/{subject}", params=params)
    assert response.status_code == 200
    document = response.json()
    assert document["schemaVersion"] == 2
    assert document["mediaType"] == OCI_INDEX
    manifests: list[dict[str, Any]] = document["manifests"]
    return manifests


def test_no_referrers_is_an_empty_index(client: TestClient, subject: str) -> None:
    response = client.get(f"/v2/{REPO}/referrers/{subject}")

    assert response.status_code == 200
    assert response.headers["content-type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    assert "OCI-Filters-Applied" not in response.headers


def test_referrers_are_listed_as_descriptors(client: TestClient, subject: str) -> None:
    signature, signature_size, _ = referrer(
        client, subject, SIGNATURE, payload=b"sig", annotations={"org.example.signer": "me"}
    )
    sbom, sbom_size, _ = referrer(client, subject, SBOM, payload=b"sbom")

    manifests = listing(client, subject)

    assert sorted(manifests, key=lambda d: str(d["digest"])) == sorted(
        [
            {
                "mediaType": OCI_MANIFEST,
                "digest": signature,
                "size": signature_size,
                "artifactType": SIGNATURE,
                "annotations": {"org.example.signer": "me"},
            },
            {"mediaType": OCI_MANIFEST, "digest": sbom, "size": sbom_size, "artifactType": SBOM},
        ],
        key=lambda d: str(d["digest"]),
    )


def test_artifact_type_filter(client: TestClient, subject: str) -> None:
    signature, _, _ = referrer(client, subject, SIGNATURE, payload=b"sig")
    referrer(client, subject, SBOM, payload=b"sbom")

    response = client.get(f"/v2/{REPO}/referrers/{subject}", params={"artifactType": SIGNATURE})

    assert response.status_code == 200
    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in response.json()["manifests"]] == [signature]


def test_filter_matching_nothing_is_still_applied(client: TestClient, subject: str) -> None:
    referrer(client, subject, SIGNATURE)

    response = client.get(f"/v2/{REPO}/referrers/{subject}", params={"artifactType": "application/none"})

    assert response.json()["manifests"] == []
    assert response.headers["OCI-Filters-Applied"] == "artifactType"


def test_image_manifest_without_artifact_type_reports_its_config_media_type(
    client: TestClient, subject: str
) -> None:
    """The spec: for an image manifest without artifactType, report config.mediaType."""
    config = b'{"signed":true}'
    push_blob(client, REPO, config)
    document = image_manifest(
        config,
        [],
        config_type="application/vnd.example.config.v1+json",
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
    )
    body = canonical(document)
    push_manifest(client, REPO, digest_of(body), body, OCI_MANIFEST)

    manifests = listing(client, subject)

    assert [(d["digest"], d["artifactType"]) for d in manifests] == [
        (digest_of(body), "application/vnd.example.config.v1+json")
    ]
    filtered = listing(client, subject, artifactType="application/vnd.example.config.v1+json")
    assert [d["digest"] for d in filtered] == [digest_of(body)]


def test_an_index_can_be_a_referrer(client: TestClient, subject: str) -> None:
    child_body, _ = push_image(client, REPO, None, seed="child")
    document = index_manifest(
        [(OCI_MANIFEST, child_body)],
        artifactType="application/vnd.example.bundle",
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
        annotations={"org.example.kind": "bundle"},
    )
    body = canonical(document)
    assert push_manifest(client, REPO, digest_of(body), body, OCI_INDEX).status_code == 201

    assert listing(client, subject) == [
        {
            "mediaType": OCI_INDEX,
            "digest": digest_of(body),
            "size": len(body),
            "artifactType": "application/vnd.example.bundle",
            "annotations": {"org.example.kind": "bundle"},
        }
    ]


def test_referrers_of_a_subject_pushed_later(client: TestClient) -> None:
    """A referrer may arrive before its subject; it is listed either way."""
    config, layer = b'{"later":true}', b"later layer"
    push_blob(client, REPO, config)
    push_blob(client, REPO, layer)
    body = canonical(image_manifest(config, [layer]))
    future_subject = digest_of(body)
    early, _, _ = referrer(client, future_subject, SIGNATURE)

    assert client.head(f"/v2/{REPO}/manifests/{future_subject}").status_code == 404
    assert [d["digest"] for d in listing(client, future_subject)] == [early]
    assert push_manifest(client, REPO, "later", body, OCI_MANIFEST).status_code == 201
    assert [d["digest"] for d in listing(client, future_subject)] == [early]


def test_referrers_of_referrers(client: TestClient, subject: str) -> None:
    signature, _, _ = referrer(client, subject, SIGNATURE)
    countersignature, _, _ = referrer(client, signature, SIGNATURE, payload=b"counter")

    assert [d["digest"] for d in listing(client, subject)] == [signature]
    assert [d["digest"] for d in listing(client, signature)] == [countersignature]


def test_a_tagged_referrer_is_listed_too(client: TestClient, subject: str) -> None:
    tagged, _, _ = referrer(client, subject, SIGNATURE, tag="sig-v1")

    assert [d["digest"] for d in listing(client, subject)] == [tagged]


def test_deleting_a_referrer_removes_it_from_the_list(client: TestClient, subject: str) -> None:
    gone, _, _ = referrer(client, subject, SIGNATURE, payload=b"gone")
    kept, _, _ = referrer(client, subject, SBOM, payload=b"kept")

    assert client.delete(f"/v2/{REPO}/manifests/{gone}").status_code == 202

    assert [d["digest"] for d in listing(client, subject)] == [kept]


def test_referrers_are_per_repository(client: TestClient, subject: str) -> None:
    referrer(client, subject, SIGNATURE)
    referrer(client, subject, SBOM, repository="team/elsewhere", payload=b"elsewhere")

    assert [d["artifactType"] for d in listing(client, subject)] == [SIGNATURE]


def test_unknown_digest_and_unknown_repository_give_an_empty_index(client: TestClient) -> None:
    """The spec: a registry supporting the referrers API MUST NOT answer 404 for an unknown subject."""
    unknown = digest_of(b"no such manifest")

    assert listing(client, unknown) == []
    response = client.get(f"/v2/team/nothing/referrers/{unknown}")
    assert response.status_code == 200
    assert response.json()["manifests"] == []


@pytest.mark.parametrize("digest", ["sha256:totallywrong", "latest", "sha256:" + "Z" * 64, "md5:" + "0" * 32])
def test_invalid_digest_is_400_digest_invalid(client: TestClient, digest: str) -> None:
    entry = assert_error(client.get(f"/v2/{REPO}/referrers/{digest}"), 400, "DIGEST_INVALID")

    assert entry["detail"] == {"digest": digest}
