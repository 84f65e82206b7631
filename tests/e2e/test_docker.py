"""The docker CLI and a real dockerd against berth's default registry at 127.0.0.1:PORT."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.hosts import hosts_entries
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball, sha256_digest
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _digest_in(output: str, label: str) -> str:
    found = re.search(rf"{label}:? (sha256:[0-9a-f]{{64}})", output)
    assert found, f"no {label} digest in:\n{output}"
    return found.group(1)


def _image(dockerd: DockerDaemon, reference: str) -> dict[str, object]:
    inspected = json.loads(dockerd.run("image", "inspect", reference).stdout)
    assert len(inspected) == 1
    return dict(inspected[0])


def _import(dockerd: DockerDaemon, tmp_path: Path, reference: str, size: int = 64 * 1024) -> str:
    """``docker import`` a random root filesystem; returns the image id (its config digest)."""
    rootfs = rootfs_tarball(tmp_path / "rootfs.tar", size)
    image_id = dockerd.run("import", str(rootfs), reference).stdout.strip()
    assert image_id.startswith("sha256:")
    return image_id


def _push(dockerd: DockerDaemon, reference: str) -> str:
    return _digest_in(dockerd.run("push", reference).stdout, "digest")


def _remove(dockerd: DockerDaemon, *references: str) -> None:
    dockerd.run("rmi", *references)
    for reference in references:
        assert dockerd.run("image", "inspect", reference, check=False).returncode != 0


def test_push_remove_pull_keeps_image_id_and_digest(
    dockerd: DockerDaemon, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    reference = f"{berth_server.address}/hello/world:v1"
    image_id = _import(dockerd, tmp_path, reference)
    pushed = _push(dockerd, reference)

    stored = http.get("/v2/hello/world/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert stored.status_code == 200
    assert stored.headers["Content-Type"] == DOCKER_MANIFEST
    assert stored.headers["Docker-Content-Digest"] == pushed == sha256_digest(stored.content)
    manifest = stored.json()
    assert manifest["config"]["digest"] == image_id
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = http.get(f"/v2/hello/world/blobs/{descriptor['digest']}")
        assert blob.status_code == 200
        assert sha256_digest(blob.content) == descriptor["digest"]
        assert len(blob.content) == descriptor["size"]

    _remove(dockerd, reference)
    pulled = _digest_in(dockerd.run("pull", reference).stdout, "Digest")
    assert pulled == pushed
    image = _image(dockerd, reference)
    assert image["Id"] == image_id
    assert image["RepoDigests"] == [f"{berth_server.address}/hello/world@{pushed}"]


def test_a_large_layer_sent_from_its_file_is_pulled_back_whole(
    dockerd: DockerDaemon, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    """A layer over 1 MiB goes out with sendfile (berth.sendfile); docker checks its digest."""
    reference = f"{berth_server.address}/big/layer:v1"
    image_id = _import(dockerd, tmp_path, reference, size=48 * 1024 * 1024)
    pushed = _push(dockerd, reference)
    manifest = http.get("/v2/big/layer/manifests/v1", headers={"Accept": DOCKER_MANIFEST}).json()
    assert manifest["layers"][0]["size"] > 40 * 1024 * 1024

    _remove(dockerd, reference)
    pulled = _digest_in(dockerd.run("pull", reference).stdout, "Digest")
    assert pulled == pushed
    assert _image(dockerd, reference)["Id"] == image_id


def test_nested_repository_pull_by_digest(
    dockerd: DockerDaemon, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    repository = f"{berth_server.address}/a/b/c"
    image_id = _import(dockerd, tmp_path, f"{repository}:nested")
    pushed = _push(dockerd, f"{repository}:nested")

    assert http.get("/v2/_catalog").json()["repositories"] == ["a/b/c"]
    assert http.get("/v2/a/b/c/tags/list").json() == {"name": "a/b/c", "tags": ["nested"]}

    _remove(dockerd, f"{repository}:nested")
    dockerd.run("pull", f"{repository}@{pushed}")
    assert _image(dockerd, f"{repository}@{pushed}")["Id"] == image_id


def test_second_repository_mounts_existing_layers(
    dockerd: DockerDaemon, berth_server: BerthServer, http: httpx.Client, tmp_path: Path
) -> None:
    first, second = f"{berth_server.address}/team/one:v1", f"{berth_server.address}/team/two:v1"
    image_id = _import(dockerd, tmp_path, first)
    first_digest = _push(dockerd, first)
    dockerd.run("tag", first, second)

    output = dockerd.run("push", second).stdout
    assert "Mounted from team/one" in output, output
    assert _digest_in(output, "digest") == first_digest

    _remove(dockerd, first, second)
    dockerd.run("pull", second)
    assert _image(dockerd, second)["Id"] == image_id
    assert sorted(http.get("/v2/_catalog").json()["repositories"]) == ["team/one", "team/two"]


def _push_when_resolvable(dockerd: DockerDaemon, reference: str, timeout: float = 15.0) -> str:
    """Push, retrying while dockerd's resolver still serves an /etc/hosts it read before the
    test added its entry (Go re-reads the file at most every 5 seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        result = dockerd.run("push", reference, check=False)
        if result.returncode == 0:
            return _digest_in(result.stdout, "digest")
        if "no such host" not in result.stderr or time.monotonic() > deadline:
            raise AssertionError(f"docker push {reference} failed:\n{result.stdout}{result.stderr}")
        time.sleep(1)


def test_host_routed_login_server(
    dockerd: DockerDaemon, make_berth_server: Callable[..., BerthServer], tmp_path: Path
) -> None:
    """With ``--domain D``, ``D:PORT`` is the default registry's login server, selected by the
    Host header: the same registry as the bare address. ``<name>.D:PORT`` for a registry that
    does not exist gets a clear error."""
    domain = f"e2e{uuid.uuid4().hex[:10]}.localhost"
    server = make_berth_server(extra_args=("--domain", domain))
    routed, unknown = f"{domain}:{server.port}", f"nosuch.{domain}:{server.port}"
    with hosts_entries(domain, f"nosuch.{domain}"):
        image_id = _import(dockerd, tmp_path, f"{routed}/routed/app:v1")
        pushed = _push_when_resolvable(dockerd, f"{routed}/routed/app:v1")

        bare = f"{server.address}/routed/app:v1"
        assert _digest_in(dockerd.run("pull", bare).stdout, "Digest") == pushed
        assert _image(dockerd, bare)["Id"] == image_id

        failed = dockerd.run("pull", f"{unknown}/routed/app:v1", check=False)
        assert failed.returncode != 0
        assert "registry 'nosuch' does not exist" in failed.stderr, failed.stderr
