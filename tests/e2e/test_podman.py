"""podman 4.3 (as root, vfs storage in a private folder) pushing to and pulling from berth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import Podman, Skopeo
from tests.support.images import rootfs_tarball, sha256_digest, write_oci_layout
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

MEDIA_TYPES = {
    "oci": "application/vnd.oci.image.manifest.v1+json",
    "v2s2": "application/vnd.docker.distribution.manifest.v2+json",
}


@pytest.mark.parametrize("manifest_format", ["oci", "v2s2"])
def test_push_remove_pull(
    podman: Podman, berth_server: BerthServer, http: httpx.Client, tmp_path: Path, manifest_format: str
) -> None:
    reference = f"{berth_server.address}/podman/hello:{manifest_format}"
    podman.run("import", str(rootfs_tarball(tmp_path / "rootfs.tar")), reference)
    image_id = podman.image_id(reference)
    digest_file = tmp_path / "digest"
    podman.run(
        "push", "--tls-verify=false", f"--format={manifest_format}", f"--digestfile={digest_file}", reference
    )
    pushed = digest_file.read_text().strip()

    stored = http.get(f"/v2/podman/hello/manifests/{manifest_format}", headers={"Accept": "*/*"})
    assert stored.status_code == 200
    assert stored.headers["Content-Type"] == MEDIA_TYPES[manifest_format]
    assert stored.headers["Docker-Content-Digest"] == pushed == sha256_digest(stored.content)
    assert stored.json()["config"]["digest"] == f"sha256:{image_id}"

    podman.run("rmi", reference)
    assert podman.run("image", "exists", reference, check=False).returncode == 1
    podman.run("pull", "--tls-verify=false", reference)
    assert podman.image_id(reference) == image_id
    digest = podman.run("image", "inspect", "--format", "{{.Digest}}", reference).stdout.strip()
    assert digest == pushed


def test_pull_by_digest_what_skopeo_pushed(
    podman: Podman, skopeo: Skopeo, berth_server: BerthServer, tmp_path: Path
) -> None:
    image = write_oci_layout(tmp_path / "layout")
    repository = f"{berth_server.address}/podman/from-skopeo"
    skopeo.copy(image.reference, f"docker://{repository}:latest")

    podman.run("pull", "--tls-verify=false", f"{repository}@{image.manifest_digest}")
    assert podman.image_id(f"{repository}@{image.manifest_digest}") == image.config_digest.removeprefix(
        "sha256:"
    )
