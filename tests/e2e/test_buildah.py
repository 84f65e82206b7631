"""buildah (Debian's package, as root with a private vfs store) against berth.

Login then push and pull, a manifest list pushed with ``buildah manifest push --all``, and
``--creds 00000000-0000-0000-0000-000000000000:<refresh token>`` (what ``az acr login
--expose-token`` hands to a client). With the admin user and a service principal, over HTTP
(``--tls-verify=false``) and HTTPS (``--cert-dir`` with a folder holding berth's ``ca.crt``, as
docs/tls.md says for containers/image clients).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import run
from tests.e2e.endpoints import IDENTITIES, SCHEMES, Endpoint
from tests.support.access_setup import NULL_GUID
from tests.support.images import write_oci_layout

pytestmark = pytest.mark.e2e

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


@dataclass(frozen=True)
class Buildah:
    home: Path
    endpoint: Endpoint

    def run(self, *args: str, check: bool = True) -> str:
        command = [
            "buildah",
            f"--root={self.home / 'root'}",
            f"--runroot={self.home / 'run'}",
            "--storage-driver=vfs",
            *args,
        ]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.home)}
        env["REGISTRY_AUTH_FILE"] = str(self.home / "auth.json")
        env["TMPDIR"] = str(self.home / "tmp")
        return run(command, env=env, check=check).stdout

    def load(self, reference: str) -> str:
        """Pull an ``oci:`` layout into the local store; returns the image id."""
        return self.run("pull", "--quiet", reference).strip()

    @property
    def tls(self) -> list[str]:
        """The transport flags: plain HTTP, or HTTPS trusting a folder with only berth's CA."""
        if self.endpoint.ca_file is None:
            return ["--tls-verify=false"]
        return [f"--cert-dir={self.home / 'certs'}"]


@pytest.fixture
def buildah(tmp_path: Path, endpoints: dict[str, Endpoint], request: pytest.FixtureRequest) -> Buildah:
    endpoint = endpoints[request.node.callspec.params["scheme"]]
    home = tmp_path / "buildah"
    (home / "tmp").mkdir(parents=True)
    (home / "auth.json").write_text('{"auths": {}}')
    if endpoint.ca_file is not None:
        (home / "certs").mkdir()
        shutil.copy(endpoint.ca_file, home / "certs" / "ca.crt")
    return Buildah(home, endpoint)


def manifest(endpoint: Endpoint, repository: str, reference: str, accept: str) -> httpx.Response:
    """A manifest as berth serves it, read with the service principal."""
    sp = endpoint.sp
    with httpx.Client(base_url=endpoint.url, verify=endpoint.verify()) as http:
        token = http.get(
            "/oauth2/token",
            params={"service": endpoint.host, "scope": f"repository:{repository}:pull"},
            auth=(sp.app_id, sp.secret),
        ).raise_for_status()
        response = http.get(
            f"/v2/{repository}/manifests/{reference}",
            headers={"Authorization": f"Bearer {token.json()['access_token']}", "Accept": accept},
        )
    return response.raise_for_status()


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_login_push_pull(buildah: Buildah, tmp_path: Path, scheme: str, identity: str) -> None:
    endpoint = buildah.endpoint
    username, password = endpoint.credentials(identity)
    repository = f"buildah/{identity}"
    target = f"{endpoint.host}/{repository}:v1"
    source = write_oci_layout(tmp_path / "layout", tag="v1")

    buildah.run("login", *buildah.tls, "--username", username, "--password", password, endpoint.host)
    digest_file = tmp_path / "digest"
    image_id = buildah.load(source.reference)
    buildah.run("push", *buildah.tls, f"--digestfile={digest_file}", image_id, f"docker://{target}")
    pushed = digest_file.read_text().strip()
    assert manifest(endpoint, repository, "v1", "*/*").headers["Docker-Content-Digest"] == pushed

    buildah.run("rmi", "--all", "--force")
    assert buildah.run("pull", "--quiet", *buildah.tls, f"docker://{target}").strip() == image_id
    images = json.loads(buildah.run("images", "--json"))
    assert any(target in name for entry in images for name in entry.get("names") or [])
    buildah.run("logout", endpoint.host)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_manifest_list_push_with_the_null_guid_and_a_refresh_token(
    buildah: Buildah, tmp_path: Path, scheme: str
) -> None:
    endpoint = buildah.endpoint
    creds = f"--creds={NULL_GUID}:{endpoint.refresh_token()}"
    repository = "buildah/multi"
    amd64 = write_oci_layout(tmp_path / "amd64", tag="v1")
    arm64 = write_oci_layout(tmp_path / "arm64", tag="v1")

    buildah.run("manifest", "create", "multi:v1")
    buildah.run("manifest", "add", "--arch=amd64", "--os=linux", "multi:v1", amd64.reference)
    buildah.run("manifest", "add", "--arch=arm64", "--os=linux", "multi:v1", arm64.reference)
    buildah.run(
        "manifest",
        "push",
        *buildah.tls,
        creds,
        "--all",
        "multi:v1",
        f"docker://{endpoint.host}/{repository}:v1",
    )

    index = manifest(endpoint, repository, "v1", f"{OCI_INDEX}, {DOCKER_LIST}")
    assert index.headers["Content-Type"] in (OCI_INDEX, DOCKER_LIST)
    platforms = {
        (m["platform"]["os"], m["platform"]["architecture"]): m["digest"] for m in index.json()["manifests"]
    }
    assert platforms == {("linux", "amd64"): amd64.manifest_digest, ("linux", "arm64"): arm64.manifest_digest}
    for digest in platforms.values():
        manifest(endpoint, repository, digest, "*/*")

    pulled = buildah.run(
        "pull", "--quiet", *buildah.tls, creds, "--arch=arm64", f"docker://{endpoint.host}/{repository}:v1"
    )
    inspected = json.loads(buildah.run("inspect", "--type=image", pulled.strip()))
    assert inspected["FromImageDigest"] == arm64.manifest_digest, inspected
