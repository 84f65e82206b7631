"""docs/tls.md's trust recipes, run for real against ``berth serve`` with a ``berth tls init`` CA.

skopeo (containers/image, as podman and buildah) trusts the CA through ``--cert-dir`` pointing
at a folder that holds only ``ca.crt``; pointing it at ``<data_dir>/tls`` itself fails, as the
docs warn. curl trusts it with ``--cacert``. Without the CA, both refuse the server.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import Skopeo
from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.tls_server import TlsBerthServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TlsBerthServer, ServicePrincipal]]:
    data_dir = tmp_path_factory.mktemp("tls-clients") / "berth"
    server = TlsBerthServer(data_dir, env={"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd"})
    server.init_tls()
    setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
    pusher = setup.service_principal("tls-pusher", role="AcrPush")
    with server:
        yield server, pusher
    setup.close()


@pytest.fixture
def skopeo(tmp_path: Path) -> Skopeo:
    home = tmp_path / "skopeo"
    home.mkdir()
    return Skopeo(home)


@pytest.fixture
def ca_only(tmp_path: Path, served: tuple[TlsBerthServer, ServicePrincipal]) -> Path:
    folder = tmp_path / "berth-ca"
    folder.mkdir()
    shutil.copy(served[0].ca_file, folder / "ca.crt")
    return folder


def test_skopeo_pushes_and_reads_back_with_cert_dir(
    served: tuple[TlsBerthServer, ServicePrincipal], skopeo: Skopeo, ca_only: Path, tmp_path: Path
) -> None:
    server, sp = served
    layout = tmp_path / "layout"
    image = _oci_layout(layout)
    creds = f"{sp.app_id}:{sp.secret}"
    target = f"docker://{server.host}/tls/app:v1"

    skopeo.run("copy", "--dest-cert-dir", str(ca_only), "--dest-creds", creds, f"oci:{image}:v1", target)

    tags = skopeo.run(
        "list-tags", "--cert-dir", str(ca_only), "--creds", creds, f"docker://{server.host}/tls/app"
    )
    assert '"v1"' in tags.stdout


def test_skopeo_with_the_tls_folder_itself_fails_as_documented(
    served: tuple[TlsBerthServer, ServicePrincipal], skopeo: Skopeo
) -> None:
    server, sp = served
    result = skopeo.run(
        "list-tags",
        "--cert-dir",
        str(server.tls_dir),
        "--creds",
        f"{sp.app_id}:{sp.secret}",
        f"docker://{server.host}/tls/app",
        check=False,
    )
    assert result.returncode != 0
    assert "missing client certificate" in result.stderr


def test_skopeo_without_the_ca_refuses_the_server(
    served: tuple[TlsBerthServer, ServicePrincipal], skopeo: Skopeo, tmp_path: Path
) -> None:
    server, sp = served
    empty = tmp_path / "no-ca"
    empty.mkdir()
    result = skopeo.run(
        "list-tags",
        "--cert-dir",
        str(empty),
        "--creds",
        f"{sp.app_id}:{sp.secret}",
        f"docker://{server.host}/tls/app",
        check=False,
    )
    assert result.returncode != 0
    assert "certificate signed by unknown authority" in result.stderr


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_curl_with_cacert_gets_the_challenge(
    served: tuple[TlsBerthServer, ServicePrincipal], host: str
) -> None:
    server, _ = served
    url = f"https://{host}:{server.port}/v2/"
    trusted = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(server.ca_file), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert trusted.stdout == "401", trusted.stderr
    untrusted = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", url], capture_output=True, text=True, timeout=60, check=False
    )
    assert untrusted.returncode == 60, untrusted.stderr  # CURLE_PEER_FAILED_VERIFICATION


def _oci_layout(folder: Path) -> Path:
    """A one-layer OCI image layout written by hand (no network, no daemon)."""
    import hashlib
    import json

    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    config = put(
        json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        ).encode()
    )
    layer = put(b"tls layer")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
        }
    ).encode()
    described = put(manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **described,
                "annotations": {"org.opencontainers.image.ref.name": "v1"},
            }
        ],
    }
    (folder / "index.json").write_text(json.dumps(index))
    (folder / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return folder
