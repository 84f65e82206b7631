"""skopeo 1.9 against berth: copy in both directions, inspect, list-tags and delete."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import Skopeo
from tests.support.dockerd import DockerDaemon
from tests.support.images import OCI_MANIFEST, OciImage, rootfs_tarball, sha256_digest, write_oci_layout
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _push_layout(skopeo: Skopeo, tmp_path: Path, target: str) -> OciImage:
    image = write_oci_layout(tmp_path / "source", tag="v1")
    skopeo.copy(image.reference, target)
    return image


def _layout_manifest(layout: Path) -> bytes:
    """The bytes of the single manifest an OCI layout's index.json points at."""
    (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
    digest: str = descriptor["digest"]
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    assert member is not None, f"{name} missing from the archive"
    return member.read()


def test_oci_layout_round_trip_keeps_every_digest(
    skopeo: Skopeo, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    target = f"docker://{berth_server.address}/skopeo/oci:v1"
    image = _push_layout(skopeo, tmp_path, target)

    stored = http.get("/v2/skopeo/oci/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert stored.status_code == 200
    assert stored.content == image.manifest
    assert stored.headers["Docker-Content-Digest"] == image.manifest_digest
    for digest, content in image.blobs().items():
        assert http.get(f"/v2/skopeo/oci/blobs/{digest}").content == content

    copy = tmp_path / "copy"
    skopeo.copy(target, f"oci:{copy}:v1")
    manifest = _layout_manifest(copy)
    assert manifest == image.manifest
    for digest, content in image.blobs().items():
        assert (copy / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes() == content


def test_docker_archive_both_directions(
    skopeo: Skopeo, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    source = f"docker://{berth_server.address}/skopeo/archive:v1"
    image = _push_layout(skopeo, tmp_path, source)

    archive = tmp_path / "image.tar"
    skopeo.copy(source, f"docker-archive:{archive}:localhost/skopeo/archive:v1")
    with tarfile.open(archive) as contents:
        (entry,) = json.loads(_member(contents, "manifest.json"))
        assert entry["RepoTags"] == ["localhost/skopeo/archive:v1"]
        assert sha256_digest(_member(contents, entry["Config"])) == image.config_digest

    # Back into a new repository: skopeo writes a Docker schema 2 manifest with the same config.
    again = f"docker://{berth_server.address}/skopeo/from-archive:v2"
    skopeo.copy(f"docker-archive:{archive}", again)
    inspected = skopeo.inspect(again)
    assert inspected["Digest"] == sha256_digest(skopeo.raw_manifest(again))
    manifest = json.loads(skopeo.raw_manifest(again))
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert manifest["config"]["digest"] == image.config_digest
    assert skopeo.inspect(again, "--config") == json.loads(image.config)
    head = http.head("/v2/skopeo/from-archive/manifests/v2", headers={"Accept": "*/*"})
    assert head.headers["Docker-Content-Digest"] == inspected["Digest"]


def test_copy_from_docker_daemon(
    skopeo: Skopeo, dockerd: DockerDaemon, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    local = "skopeo-source/imported:v1"
    image_id = dockerd.run("import", str(rootfs_tarball(tmp_path / "rootfs.tar")), local).stdout.strip()
    target = f"docker://{berth_server.address}/skopeo/daemon:v1"
    skopeo.copy(f"docker-daemon:{local}", target, f"--src-daemon-host={dockerd.env['DOCKER_HOST']}")
    dockerd.run("rmi", local)

    manifest = json.loads(skopeo.raw_manifest(target))
    assert manifest["config"]["digest"] == image_id
    config = http.get(f"/v2/skopeo/daemon/blobs/{image_id}")
    assert config.status_code == 200
    assert sha256_digest(config.content) == image_id


def test_inspect_and_list_tags(skopeo: Skopeo, berth_server: BerthServer, tmp_path: Path) -> None:
    repository = f"docker://{berth_server.address}/skopeo/inspect"
    image = _push_layout(skopeo, tmp_path, f"{repository}:v1")
    skopeo.copy(f"{repository}:v1", f"{repository}:v2")

    inspected = skopeo.inspect(f"{repository}:v1")
    assert inspected["Digest"] == image.manifest_digest
    assert inspected["Layers"] == list(image.layer_digests)
    assert (inspected["Architecture"], inspected["Os"]) == ("amd64", "linux")
    assert inspected["RepoTags"] == ["v1", "v2"]
    assert skopeo.raw_manifest(f"{repository}@{image.manifest_digest}") == image.manifest
    assert skopeo.inspect(f"{repository}:v2", "--config") == json.loads(image.config)
    tags = json.loads(skopeo.run("list-tags", "--tls-verify=false", repository).stdout)
    assert tags["Tags"] == ["v1", "v2"]


def test_delete_then_manifest_is_gone(
    skopeo: Skopeo, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    reference = f"docker://{berth_server.address}/skopeo/delete:v1"
    image = _push_layout(skopeo, tmp_path, reference)
    assert http.head(f"/v2/skopeo/delete/manifests/{image.manifest_digest}").status_code == 200

    skopeo.run("delete", "--tls-verify=false", reference)

    for path in (f"/v2/skopeo/delete/manifests/{image.manifest_digest}", "/v2/skopeo/delete/manifests/v1"):
        gone = http.get(path, headers={"Accept": OCI_MANIFEST})
        assert gone.status_code == 404
        assert gone.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    failed = skopeo.run("inspect", "--tls-verify=false", reference, check=False)
    assert failed.returncode != 0
    assert "manifest unknown" in failed.stderr.lower()
