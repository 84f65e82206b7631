"""A crash between any two writes of an upload leaves a state the restart makes whole (finding 6).

``BERTH_FAULT=<point>`` kills the server (SIGKILL) at one step of writing a chunk or
completing an upload (``berth.faults.POINTS``). For every point, on SQLite and PostgreSQL,
the server is killed there, started again, and the invariants are checked: the session
either continues and completes, or is ``404 BLOB_UPLOAD_UNKNOWN``, never a 5xx; a blob that
is served hashes to its digest; and the same bytes can always be pushed again.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from berth import faults
from tests.support.server import BerthServer

REPOSITORY = "crash/test"
DATA = hashlib.sha256(b"seed").digest() * 40_000  # 1.25 MiB: streamed, not verified on read
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[BerthServer]:
    berth = BerthServer(tmp_path / "data", database_url=database_url, args=["--insecure-no-auth"])
    yield berth
    berth.close()


def client(server: BerthServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30.0, trust_env=False)


def crash_at(server: BerthServer, point: str) -> str:
    """Start a session, send the data and complete it with the server armed to die at ``point``."""
    server.env = {"BERTH_FAULT": point}
    server.start()
    with client(server) as http:
        location = http.post(f"/v2/{REPOSITORY}/blobs/uploads/").headers["Location"]
        try:
            assert http.patch(location, content=DATA).status_code == 202
            http.put(location, params={"digest": DIGEST})
        except httpx.TransportError:
            pass
    assert server.wait(timeout=30) == -9, server.log()[-2000:]
    server.env = {}
    server.start()
    return str(location)


def assert_blob_served_honestly(http: httpx.Client, repository: str = REPOSITORY) -> None:
    blob = http.get(f"/v2/{repository}/blobs/{DIGEST}")
    assert blob.status_code == 200, blob.text
    assert hashlib.sha256(blob.content).hexdigest() == DIGEST.split(":")[1]


def assert_pushes_again(http: httpx.Client) -> None:
    again = http.post("/v2/crash/again/blobs/uploads/", params={"digest": DIGEST}, content=DATA)
    assert again.status_code == 201, again.text
    assert_blob_served_honestly(http, "crash/again")


@pytest.mark.parametrize("point", faults.POINTS)
def test_a_crash_at_every_step_of_an_upload_recovers(server: BerthServer, point: str) -> None:
    location = crash_at(server, point)

    with client(server) as http:
        status = http.get(location)
        if point == "upload.recorded":
            # The blob and the end of the session were recorded together: the session is gone.
            assert status.status_code == 404, status.text
            assert status.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
            assert_blob_served_honestly(http)
        else:
            assert status.status_code == 204, status.text
            if point == "upload.part-written":
                # The chunk was on disk but never accepted: the session is as it was before it.
                assert status.headers["Range"] == "0-0"
                assert http.patch(location, content=DATA).status_code == 202
            else:
                assert status.headers["Range"] == f"0-{len(DATA) - 1}"
            done = http.put(location, params={"digest": DIGEST})
            assert done.status_code == 201, done.text
            assert_blob_served_honestly(http)
        assert_pushes_again(http)


def test_a_session_whose_parts_were_lost_is_dropped_cleanly(server: BerthServer) -> None:
    """The state a crash left in berth before parts: a session whose bytes are gone."""
    server.start()
    with client(server) as http:
        location = http.post(f"/v2/{REPOSITORY}/blobs/uploads/").headers["Location"]
        assert http.patch(location, content=DATA).status_code == 202
    server.stop()
    upload_id = location.rsplit("/", 1)[1]
    (session,) = (server.data_dir / "storage").glob(f"registries/*/uploads/{upload_id}")
    if session.is_dir():
        shutil.rmtree(session)
    else:  # the one file per session of berth before parts
        session.unlink()
    server.start()

    with client(server) as http:
        for response in (
            http.put(location, params={"digest": DIGEST}),
            http.get(location),
            http.patch(location, content=b"more"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
        assert_pushes_again(http)
