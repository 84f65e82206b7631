"""The oras Python client: artifacts, an artifact whose manifest has a ``subject``, and the
referrers API (``GET /v2/<name>/referrers/<digest>``) listing it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import oras.oci
import oras.provider
import pytest

from tests.support.images import OCI_INDEX, OCI_MANIFEST, random_blob, sha256_digest
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

REPOSITORY = "oras/artifacts"
SIGNATURE_TYPE = "application/vnd.berth.test.signature.v1+json"
SBOM_TYPE = "application/vnd.berth.test.sbom.v1+json"


@dataclass(frozen=True)
class Pushed:
    digest: str
    size: int
    content: bytes


@pytest.fixture
def oras_client(berth_server: BerthServer) -> oras.provider.Registry:
    client = oras.provider.Registry(hostname=berth_server.address, insecure=True)
    client.session.trust_env = False
    return client


def _file(directory: Path, name: str, size: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(random_blob(size))
    return path


def _push(
    client: oras.provider.Registry,
    http: httpx.Client,
    target: str,
    files: list[str],
    config: str,
    subject: oras.oci.Subject | None = None,
    **options: object,
) -> Pushed:
    response = client.push(
        target=target,
        files=files,
        manifest_config=config,
        subject=subject,
        disable_path_validation=True,
        quiet=True,
        **options,
    )
    assert response.status_code == 201, response.text
    digest = response.headers["Docker-Content-Digest"]
    if subject is not None:
        assert response.headers["OCI-Subject"] == subject.digest
    stored = http.get(f"/v2/{REPOSITORY}/manifests/{digest}", headers={"Accept": OCI_MANIFEST})
    assert stored.status_code == 200
    assert sha256_digest(stored.content) == digest
    return Pushed(digest=digest, size=len(stored.content), content=stored.content)


def test_artifact_with_subject_is_listed_by_referrers(
    oras_client: oras.provider.Registry, http: httpx.Client, berth_server: BerthServer, tmp_path: Path
) -> None:
    target = f"{berth_server.address}/{REPOSITORY}"
    payload = _file(tmp_path / "subject", "payload.bin", 300 * 1024)
    config = _file(tmp_path / "subject", "config.json", 64)
    # Chunked (POST, PATCH with Content-Range, PUT) for the subject's blobs, monolithic for the rest.
    subject = _push(
        oras_client,
        http,
        f"{target}:v1",
        [f"{payload}:application/vnd.berth.test.payload"],
        f"{config}:application/vnd.berth.test.config.v1+json",
        do_chunked=True,
        chunk_size=64 * 1024,
    )
    reference = oras.oci.Subject(mediaType=OCI_MANIFEST, digest=subject.digest, size=subject.size)
    signature_file = _file(tmp_path / "signature", "signature.sig", 512)
    signature = _push(
        oras_client,
        http,
        f"{target}:signature",
        [str(signature_file)],
        f"{_file(tmp_path / 'signature', 'config.json', 16)}:{SIGNATURE_TYPE}",
        subject=reference,
        manifest_annotations={"org.example.kind": "signature"},
    )
    sbom = _push(
        oras_client,
        http,
        f"{target}:sbom",
        [str(_file(tmp_path / "sbom", "sbom.json", 2048))],
        f"{_file(tmp_path / 'sbom', 'config.json', 16)}:{SBOM_TYPE}",
        subject=reference,
    )

    listed = http.get(f"/v2/{REPOSITORY}/referrers/{subject.digest}")
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in listed.headers
    index = listed.json()
    assert (index["schemaVersion"], index["mediaType"]) == (2, OCI_INDEX)
    by_digest = {descriptor["digest"]: descriptor for descriptor in index["manifests"]}
    assert by_digest == {
        signature.digest: {
            "mediaType": OCI_MANIFEST,
            "digest": signature.digest,
            "size": signature.size,
            "artifactType": SIGNATURE_TYPE,
            "annotations": {"org.example.kind": "signature"},
        },
        sbom.digest: {
            "mediaType": OCI_MANIFEST,
            "digest": sbom.digest,
            "size": sbom.size,
            "artifactType": SBOM_TYPE,
        },
    }

    filtered = http.get(f"/v2/{REPOSITORY}/referrers/{subject.digest}", params={"artifactType": SBOM_TYPE})
    assert filtered.status_code == 200
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [descriptor["digest"] for descriptor in filtered.json()["manifests"]] == [sbom.digest]

    # The artifacts' blobs come back intact through the oras client.
    pulled = oras_client.pull(target=f"{target}:signature", outdir=str(tmp_path / "pulled"))
    assert [Path(path).read_bytes() for path in pulled] == [signature_file.read_bytes()]


def test_referrers_of_a_manifest_without_any(
    oras_client: oras.provider.Registry, http: httpx.Client, berth_server: BerthServer, tmp_path: Path
) -> None:
    lonely = _push(
        oras_client,
        http,
        f"{berth_server.address}/{REPOSITORY}:lonely",
        [str(_file(tmp_path, "lonely.txt", 100))],
        f"{_file(tmp_path, 'config.json', 16)}:{SBOM_TYPE}",
    )
    for digest in (lonely.digest, sha256_digest(b"never pushed")):
        listed = http.get(f"/v2/{REPOSITORY}/referrers/{digest}")
        assert listed.status_code == 200
        assert listed.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    filtered = http.get(f"/v2/{REPOSITORY}/referrers/{lonely.digest}", params={"artifactType": SBOM_TYPE})
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert filtered.json()["manifests"] == []
