"""The docker SDK for Python (``docker`` on PyPI) against berth, through the private dockerd.

``DockerClient.login``, ``images.push`` and ``images.pull`` go through the engine (which asks
berth for tokens with the credentials the SDK hands it); ``get_registry_data`` asks the engine
to resolve a reference at the registry (``GET /distribution/<ref>/json``). Each with the admin
user and a service principal, over HTTP (``127.0.0.1:PORT``) and HTTPS (``localhost:PORT``).

The engine counts every registry on 127.0.0.0/8 as insecure: over HTTPS it speaks TLS without
checking berth's certificate (a real host needs the CA in ``/etc/docker/certs.d``, see
docs/tls.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from tests.e2e.endpoints import IDENTITIES, SCHEMES, Endpoint
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sdk(dockerd: DockerDaemon) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=dockerd.env["DOCKER_HOST"], version="auto", timeout=300)
    yield client
    client.close()


@pytest.fixture(scope="module")
def local_image(sdk: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    tarball = rootfs_tarball(tmp_path_factory.mktemp("sdk-image") / "rootfs.tar")
    name = f"local/sdk-{uuid.uuid4().hex[:8]}"
    sdk.api.import_image_from_file(str(tarball), repository=name, tag="v1")
    return f"{name}:v1"


def stored_digest(endpoint: Endpoint, repository: str, tag: str, identity: str) -> str:
    """The manifest digest berth holds, read over its API with the same credentials."""
    username, password = endpoint.credentials(identity)
    with httpx.Client(base_url=endpoint.url, verify=endpoint.verify()) as http:
        token = http.get(
            "/oauth2/token",
            params={"service": endpoint.host, "scope": f"repository:{repository}:pull"},
            auth=(username, password),
        )
        token.raise_for_status()
        response = http.head(
            f"/v2/{repository}/manifests/{tag}",
            headers={
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Accept": "application/vnd.docker.distribution.manifest.v2+json",
            },
        )
        response.raise_for_status()
        return response.headers["Docker-Content-Digest"]


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_login_push_registry_data_and_pull(
    sdk: docker.DockerClient,
    endpoints: dict[str, Endpoint],
    local_image: str,
    tmp_path: Path,
    scheme: str,
    identity: str,
) -> None:
    endpoint = endpoints[scheme]
    username, password = endpoint.credentials(identity)
    repository = f"sdk/{identity}"
    reference = f"{endpoint.host}/{repository}"

    answer = sdk.login(username=username, password=password, registry=endpoint.host, reauth=True)
    assert answer["Status"] == "Login Succeeded"

    assert sdk.images.get(local_image).tag(reference, tag=scheme)
    progress = list(sdk.images.push(reference, tag=scheme, stream=True, decode=True))
    assert not [line for line in progress if "error" in line], progress
    pushed = next(line["aux"]["Digest"] for line in progress if "aux" in line)
    assert pushed == stored_digest(endpoint, repository, scheme, identity)

    data = sdk.images.get_registry_data(f"{reference}:{scheme}")
    assert data.id == pushed
    assert data.has_platform("linux/amd64")

    sdk.images.remove(f"{reference}:{scheme}")
    pulled = sdk.images.pull(reference, tag=scheme)
    assert pulled.id == sdk.images.get(local_image).id
    assert f"{reference}@{pushed}" in pulled.attrs["RepoDigests"]
