"""Durability across restarts: stop berth with SIGTERM (graceful) or SIGKILL (a crash), start
it again on the same data directory and port, and check that nothing that was acknowledged
is lost: pushed images (every digest), upload sessions in progress, and an upload that was
still streaming when SIGTERM arrived."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import Skopeo
from tests.support.images import OCI_MANIFEST, OciImage, random_blob, sha256_digest, write_oci_layout
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGKILL, id="SIGKILL")]
# A graceful stop ends with status 0 and these log lines; a crash (SIGKILL) with neither.
GRACEFUL_STOP = ("Application shutdown complete", "Finished server process", "berth stopped (SIGTERM)")
REPOSITORIES = ("restart/one", "restart/two", "restart/nested/three")


@pytest.fixture
def berth_server(make_berth_server: Callable[..., BerthServer], database_url: str) -> BerthServer:
    """Durability is checked with both metadata engines: SQLite and PostgreSQL."""
    return make_berth_server(database_url=database_url)


def _restart(server: BerthServer, sig: signal.Signals) -> None:
    """Stop the server with ``sig`` (checking that only SIGTERM stops it gracefully), start it again."""
    logged_before = len(server.log())
    assert server.stop(sig) == (0 if sig == signal.SIGTERM else -sig)
    logged = server.log()[logged_before:]
    for line in GRACEFUL_STOP:
        assert (line in logged) == (sig == signal.SIGTERM), logged
    server.start()


def _client(server: BerthServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30.0, trust_env=False)


def _check_stored(server: BerthServer, repository: str, image: OciImage) -> None:
    with _client(server) as http:
        for reference in (image.tag, image.manifest_digest):
            manifest = http.get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
            assert manifest.status_code == 200, manifest.text
            assert manifest.content == image.manifest
            assert manifest.headers["Docker-Content-Digest"] == image.manifest_digest
        for digest, content in image.blobs().items():
            blob = http.get(f"/v2/{repository}/blobs/{digest}")
            assert blob.status_code == 200, blob.text
            assert sha256_digest(blob.content) == digest
            assert blob.content == content


@pytest.mark.parametrize("sig", SIGNALS)
def test_pushed_images_survive(
    sig: signal.Signals, berth_server: BerthServer, skopeo: Skopeo, tmp_path: Path
) -> None:
    images: dict[str, OciImage] = {}
    for number, repository in enumerate(REPOSITORIES):
        image = write_oci_layout(tmp_path / f"image{number}", tag=f"v{number}", layers=number + 1)
        skopeo.copy(image.reference, f"docker://{berth_server.address}/{repository}:{image.tag}")
        images[repository] = image

    _restart(berth_server, sig)

    with _client(berth_server) as http:
        assert http.get("/v2/_catalog").json()["repositories"] == sorted(REPOSITORIES)
    for number, (repository, image) in enumerate(images.items()):
        _check_stored(berth_server, repository, image)
        copy = tmp_path / f"pulled{number}"
        skopeo.copy(f"docker://{berth_server.address}/{repository}:{image.tag}", f"oci:{copy}:{image.tag}")
        for digest, content in [(image.manifest_digest, image.manifest), *image.blobs().items()]:
            assert (copy / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes() == content


@pytest.mark.parametrize("sig", SIGNALS)
def test_upload_session_survives(sig: signal.Signals, berth_server: BerthServer) -> None:
    first, second = random_blob(300 * 1024), random_blob(200 * 1024)
    digest = sha256_digest(first + second)
    headers = {"Content-Type": "application/octet-stream"}
    with _client(berth_server) as http:
        started = http.post("/v2/restart/upload/blobs/uploads/")
        assert started.status_code == 202
        location, upload_id = started.headers["Location"], started.headers["Docker-Upload-UUID"]
        chunk = http.patch(
            location, content=first, headers={**headers, "Content-Range": f"0-{len(first) - 1}"}
        )
        assert chunk.status_code == 202
        assert chunk.headers["Range"] == f"0-{len(first) - 1}"

    _restart(berth_server, sig)

    with _client(berth_server) as http:
        status = http.get(location)
        assert status.status_code == 204
        assert status.headers["Range"] == f"0-{len(first) - 1}"
        assert status.headers["Docker-Upload-UUID"] == upload_id
        stale = http.patch(
            location, content=first, headers={**headers, "Content-Range": f"0-{len(first) - 1}"}
        )
        assert stale.status_code == 416
        end = len(first) + len(second) - 1
        chunk = http.patch(
            location, content=second, headers={**headers, "Content-Range": f"{len(first)}-{end}"}
        )
        assert chunk.status_code == 202
        assert chunk.headers["Range"] == f"0-{end}"
        done = http.put(location, params={"digest": digest})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest
        blob = http.get(f"/v2/restart/upload/blobs/{digest}")
        assert blob.status_code == 200
        assert blob.content == first + second


def test_sigterm_lets_a_streaming_upload_finish(berth_server: BerthServer) -> None:
    blocks = [random_blob(256 * 1024) for _ in range(8)]
    digest = sha256_digest(b"".join(blocks))

    def body() -> Iterator[bytes]:
        for number, block in enumerate(blocks):
            if number == 2:
                berth_server.send_signal(signal.SIGTERM)  # mid-request: the server must drain it
            yield block
            time.sleep(0.1)

    logged_before = len(berth_server.log())
    with _client(berth_server) as http:
        started = http.post("/v2/restart/draining/blobs/uploads/")
        assert started.status_code == 202
        done = http.put(started.headers["Location"], params={"digest": digest}, content=body())
        assert done.status_code == 201, done.text
    assert berth_server.wait() == 0
    logged = berth_server.log()[logged_before:]
    assert "Waiting for connections to close" in logged  # the upload was in flight at SIGTERM
    assert all(line in logged for line in GRACEFUL_STOP), logged

    berth_server.start()
    with _client(berth_server) as http:
        blob = http.get(f"/v2/restart/draining/blobs/{digest}")
        assert blob.status_code == 200
        assert sha256_digest(blob.content) == digest
