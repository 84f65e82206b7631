"""containerd's ``ctr`` (Debian's containerd 1.6) against berth, through a private containerd.

An image imported from an OCI archive is pushed with ``--user``, its content removed from
containerd, then pulled back; a two-platform index is pushed whole. With the admin user and a
service principal, over HTTP (``--plain-http``) and HTTPS. For HTTPS ``ctr`` needs a
``hosts.toml`` naming berth's CA under ``--hosts-dir`` (docs/tls.md): ``--tlscacert`` alone
still speaks plain HTTP to ``localhost``.
"""

from __future__ import annotations

import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.endpoints import IDENTITIES, SCHEMES, Endpoint
from tests.support.containerd import Containerd, containerd
from tests.support.images import OciImage, sha256_digest, write_oci_layout

pytestmark = pytest.mark.e2e

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Containerd]:
    with containerd() as running:
        yield running


def transport(endpoint: Endpoint, folder: Path) -> list[str]:
    """``--plain-http``, or ``--hosts-dir`` with a hosts.toml trusting berth's CA."""
    if endpoint.ca_file is None:
        return ["--plain-http"]
    host_dir = folder / "hosts" / endpoint.host
    host_dir.mkdir(parents=True, exist_ok=True)
    (host_dir / "hosts.toml").write_text(
        f'server = "https://{endpoint.host}"\n\n'
        f'[host."https://{endpoint.host}"]\n'
        f'  ca = "{endpoint.ca_file}"\n'
    )
    return ["--hosts-dir", str(folder / "hosts")]


def archive(layout: Path) -> Path:
    target = layout.with_suffix(".tar")
    with tarfile.open(target, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    return target


def imported(daemon: Containerd, layout: Path, tag: str) -> str:
    """The layout imported (all platforms, not unpacked); returns the local image name."""
    base = f"local/ctr-{uuid.uuid4().hex[:8]}"
    daemon.ctr(
        "images", "import", "--no-unpack", "--all-platforms", "--base-name", base, str(archive(layout))
    )
    return f"{base}:{tag}"


def served(endpoint: Endpoint, repository: str, reference: str) -> httpx.Response:
    sp = endpoint.sp
    with httpx.Client(base_url=endpoint.url, verify=endpoint.verify()) as http:
        token = http.get(
            "/oauth2/token",
            params={"service": endpoint.host, "scope": f"repository:{repository}:pull"},
            auth=(sp.app_id, sp.secret),
        ).raise_for_status()
        response = http.get(
            f"/v2/{repository}/manifests/{reference}",
            headers={
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Accept": f"{OCI_INDEX}, {OCI_MANIFEST}",
            },
        )
    return response.raise_for_status()


def forget(daemon: Containerd, image: OciImage, *names: str) -> None:
    """Remove the images and their content, so a pull must fetch everything from berth."""
    daemon.ctr("images", "rm", *names)
    digests = [image.manifest_digest, *image.blobs()]
    daemon.ctr("content", "rm", *digests, check=False)
    listed = daemon.ctr("content", "ls", "--quiet").stdout
    assert not any(digest in listed for digest in digests)


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_push_and_pull_with_user(
    daemon: Containerd, endpoints: dict[str, Endpoint], tmp_path: Path, scheme: str, identity: str
) -> None:
    endpoint = endpoints[scheme]
    username, password = endpoint.credentials(identity)
    flags = [*transport(endpoint, tmp_path), "--user", f"{username}:{password}"]
    repository = f"ctr/{identity}"
    remote = f"{endpoint.host}/{repository}:v1"
    image = write_oci_layout(tmp_path / "layout", tag="v1")
    local = imported(daemon, image.layout, "v1")

    daemon.ctr("images", "push", *flags, remote, local)
    assert served(endpoint, repository, "v1").headers["Docker-Content-Digest"] == image.manifest_digest

    forget(daemon, image, local)
    daemon.ctr("images", "pull", *flags, "--snapshotter", "native", remote)
    listed = daemon.ctr("images", "ls").stdout
    assert remote in listed
    assert image.manifest_digest in listed
    daemon.ctr("images", "rm", remote)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_index_push(daemon: Containerd, endpoints: dict[str, Endpoint], tmp_path: Path, scheme: str) -> None:
    endpoint = endpoints[scheme]
    flags = [*transport(endpoint, tmp_path), "--user", f"{endpoint.sp.app_id}:{endpoint.sp.secret}"]
    layout = tmp_path / "index"
    amd64 = write_oci_layout(layout, tag="amd64")
    arm64 = write_oci_layout(layout, tag="arm64")  # same folder: the blobs accumulate
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": len(image.manifest),
                    "platform": {"os": "linux", "architecture": arch},
                }
                for image, arch in ((amd64, "amd64"), (arm64, "arm64"))
            ],
        },
        separators=(",", ":"),
    ).encode()
    index_digest = sha256_digest(index)
    (layout / "blobs" / "sha256" / index_digest.removeprefix("sha256:")).write_bytes(index)
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_INDEX,
                        "digest": index_digest,
                        "size": len(index),
                        "annotations": {"org.opencontainers.image.ref.name": "multi"},
                    }
                ],
            }
        )
    )
    local = imported(daemon, layout, "multi")
    repository = "ctr/index"

    daemon.ctr("images", "push", *flags, f"{endpoint.host}/{repository}:multi", local)

    stored = served(endpoint, repository, "multi")
    assert stored.headers["Docker-Content-Digest"] == index_digest
    assert stored.headers["Content-Type"] == OCI_INDEX
    for image in (amd64, arm64):
        assert served(endpoint, repository, image.manifest_digest).content == image.manifest
    daemon.ctr("images", "rm", local)


def test_tlscacert_alone_still_speaks_http_to_localhost(
    daemon: Containerd, endpoints: dict[str, Endpoint]
) -> None:
    """Why docs/tls.md asks for a hosts.toml: ctr treats localhost as a plain-HTTP registry."""
    endpoint = endpoints["https"]
    sp = endpoint.sp
    result = daemon.ctr(
        "images",
        "pull",
        "--tlscacert",
        str(endpoint.ca_file),
        "--user",
        f"{sp.app_id}:{sp.secret}",
        f"{endpoint.host}/ctr/absent:v1",
        check=False,
    )
    assert result.returncode != 0
    assert f'"http://{endpoint.host}/v2/ctr/absent/manifests/v1": EOF' in result.stderr
