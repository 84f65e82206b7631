"""docker push and pull through ``berth serve`` on each object storage driver: s3 against moto
in server mode, azure against Azurite, both separate processes on loopback started here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import Skopeo
from tests.e2e.conftest import ServerFactory
from tests.e2e.test_docker_access import Docker
from tests.support.access_setup import AccessSetup
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball, sha256_digest
from tests.support.objectstores import AzureServer, Backend, S3Server
from tests.support.objectstores import azure_backend as azure_backend_for
from tests.support.objectstores import s3_backend as s3_backend_for

pytestmark = pytest.mark.e2e

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(scope="module")
def s3_backend(s3_server: S3Server) -> Backend:
    return s3_backend_for(s3_server)


@pytest.fixture(scope="module")
def azure_backend(azure_server: AzureServer) -> Backend:
    return azure_backend_for(azure_server)


@pytest.mark.parametrize("backend_name", ["s3_backend", "azure_backend"])
def test_docker_push_and_pull_through_an_object_store(
    backend_name: str,
    request: pytest.FixtureRequest,
    dockerd: DockerDaemon,
    make_berth_server: ServerFactory,
    tmp_path: Path,
) -> None:
    env, stored_keys = request.getfixturevalue(backend_name)
    server = make_berth_server(env=env)
    reference = f"{server.address}/objects/{backend_name.split('_')[0]}:v1"
    image_id = dockerd.run("import", str(rootfs_tarball(tmp_path / "rootfs.tar")), reference).stdout.strip()

    pushed = re.search(r"digest: (sha256:[0-9a-f]{64})", dockerd.run("push", reference).stdout)
    assert pushed is not None
    with httpx.Client(base_url=server.url, timeout=30.0, trust_env=False) as http:
        path = reference.split("/", 1)[1].replace(":", "/manifests/")
        stored = http.get(f"/v2/{path}", headers={"Accept": DOCKER_MANIFEST})
        assert stored.headers["Docker-Content-Digest"] == pushed.group(1) == sha256_digest(stored.content)
        manifest = stored.json()
        assert manifest["config"]["digest"] == image_id
        blobs = [manifest["config"], *manifest["layers"]]
        for descriptor in blobs:
            repository = path.split("/manifests/")[0]
            blob = http.get(f"/v2/{repository}/blobs/{descriptor['digest']}")
            assert sha256_digest(blob.content) == descriptor["digest"]
            assert len(blob.content) == descriptor["size"]
            ranged = http.get(
                f"/v2/{repository}/blobs/{descriptor['digest']}", headers={"Range": "bytes=1-10"}
            )
            assert ranged.status_code == 206
            assert ranged.content == blob.content[1:11]

    in_store = stored_keys()
    for descriptor in blobs:
        hex_digest = descriptor["digest"].split(":", 1)[1]
        assert any(key.endswith(f"/blobs/sha256/{hex_digest}") for key in in_store), in_store
    assert not [key for key in in_store if "/uploads/" in key]  # every session's parts were dropped
    assert [p for p in (server.data_dir / "storage").rglob("*") if p.is_file()] == []  # nothing local

    dockerd.run("rmi", reference)
    pulled = re.search(r"Digest: (sha256:[0-9a-f]{64})", dockerd.run("pull", reference).stdout)
    assert pulled is not None
    assert pulled.group(1) == pushed.group(1)
    assert dockerd.run("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip() == image_id


@pytest.mark.parametrize("backend_name", ["s3_backend", "azure_backend"])
def test_docker_and_skopeo_pull_through_redirects_to_the_object_store(
    backend_name: str,
    request: pytest.FixtureRequest,
    dockerd: DockerDaemon,
    skopeo: Skopeo,
    make_berth_server: ServerFactory,
    tmp_path: Path,
) -> None:
    """With ``storage_redirect`` on, the layer (3 MiB, over the 1 MiB served by berth) is a 307
    to a presigned or SAS URL on the emulator, which dockerd and skopeo follow; the image
    arrives intact and the server's log shows the 307 without the URL's signature."""
    env, _ = request.getfixturevalue(backend_name)
    server = make_berth_server(env={**env, "BERTH_STORAGE_REDIRECT": "true"})
    reference = f"{server.address}/redirected/{backend_name.split('_')[0]}:v1"
    tarball = rootfs_tarball(tmp_path / "rootfs.tar", size=3 * 1024 * 1024)
    image_id = dockerd.run("import", str(tarball), reference).stdout.strip()
    pushed = re.search(r"digest: (sha256:[0-9a-f]{64})", dockerd.run("push", reference).stdout)
    assert pushed is not None
    dockerd.run("rmi", reference)

    pulled = re.search(r"Digest: (sha256:[0-9a-f]{64})", dockerd.run("pull", reference).stdout)
    assert pulled is not None
    assert pulled.group(1) == pushed.group(1)
    assert dockerd.run("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip() == image_id
    skopeo.copy(f"docker://{reference}", f"oci:{tmp_path / 'layout'}:v1")  # skopeo checks every digest
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(
        (tmp_path / "layout" / "blobs" / "sha256" / manifest_digest.split(":")[1]).read_bytes()
    )
    layer = manifest["layers"][0]
    assert layer["size"] > 1024 * 1024
    layer_bytes = (tmp_path / "layout" / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes()
    assert sha256_digest(layer_bytes) == layer["digest"]

    log = server.log()
    redirected = [line for line in log.splitlines() if "/blobs/sha256:" in line and '" 307 ' in line]
    assert len(redirected) >= 2, log[-3000:]  # docker's and skopeo's GET of the layer
    assert not re.search(r"X-Amz-Signature|[?&]sig=|Signature=", log)


@pytest.mark.parametrize("backend_name", ["s3_backend", "azure_backend"])
def test_docker_pulls_through_redirects_with_authentication_on(
    backend_name: str,
    request: pytest.FixtureRequest,
    dockerd: DockerDaemon,
    make_berth_server: ServerFactory,
    tmp_path: Path,
) -> None:
    """docker logs in, pushes and pulls through redirects (the 307 comes after the token check);
    without a login the pull is refused before any URL is handed out. (Whether docker also sends
    its token to the store cannot be seen here: moto and Azurite both ignore an Authorization
    header next to a signed URL.)"""
    env, _ = request.getfixturevalue(backend_name)
    server = make_berth_server(
        args=(), env={**env, "BERTH_STORAGE_REDIRECT": "true", "BERTH_BOOTSTRAP_PASSWORD": "owner-password-1"}
    )
    setup = AccessSetup.for_database(f"sqlite:///{server.data_dir / 'metadata.db'}")
    password, _ = setup.enable_admin()
    setup.close()
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text("{}")
    docker = Docker(dockerd, config, server.address)
    reference = f"{server.address}/redirected/authenticated:v1"
    dockerd.run("import", str(rootfs_tarball(tmp_path / "rootfs.tar", size=3 * 1024 * 1024)), reference)

    assert docker.login("default", password).returncode == 0
    docker.ok("push", reference)
    docker.ok("rmi", reference)
    docker.ok("pull", reference)
    docker.ok("logout", server.address)
    docker.ok("rmi", reference)
    refused = docker("pull", reference)

    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr.lower()
    log = server.log()
    assert re.search(r'"GET /v2/redirected/authenticated/blobs/sha256:[0-9a-f]{64}" 307 ', log), log[-3000:]
    assert not re.search(r"X-Amz-Signature|[?&]sig=|Signature=", log)
