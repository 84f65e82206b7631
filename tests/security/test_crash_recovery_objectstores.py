"""The crash-consistency tests of ``test_crash_recovery.py`` on the object storage drivers: for
every fault point the server (s3 on moto, azure on Azurite) is killed there and started
again, and the session continues and completes, or is gone with the blob recorded; a blob
that is served hashes to its digest; the same bytes can always be pushed again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from berth import faults
from tests.security.test_crash_recovery import (
    DATA,
    DIGEST,
    REPOSITORY,
    assert_blob_served_honestly,
    assert_pushes_again,
    client,
)
from tests.support.objectstores import AzureServer, Backend, S3Server, azure_backend, s3_backend
from tests.support.server import BerthServer


@pytest.fixture(scope="module")
def object_stores(s3_server: S3Server, azure_server: AzureServer) -> dict[str, Backend]:
    return {"s3": s3_backend(s3_server), "azure": azure_backend(azure_server)}


@pytest.mark.parametrize("point", faults.POINTS)
@pytest.mark.parametrize("driver", ["s3", "azure"])
def test_a_crash_at_every_step_of_an_upload_recovers_on_object_storage(
    object_stores: dict[str, Backend], driver: str, point: str, tmp_path: Path
) -> None:
    env, stored_keys = object_stores[driver]
    server = BerthServer(
        tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'metadata.db'}", args=["--insecure-no-auth"]
    )
    try:
        server.env = {**env, "BERTH_FAULT": point}
        server.start()
        with client(server) as http:
            location = http.post(f"/v2/{REPOSITORY}/blobs/uploads/").headers["Location"]
            try:
                assert http.patch(location, content=DATA).status_code == 202
                http.put(location, params={"digest": DIGEST})
            except httpx.TransportError:  # the server died on purpose
                pass
        assert server.wait(timeout=30) == -9, server.log()[-2000:]
        server.env = env
        server.start()

        with client(server) as http:
            status = http.get(location)
            if point == "upload.recorded":
                assert status.status_code == 404, status.text
                assert_blob_served_honestly(http)
            else:
                assert status.status_code == 204, status.text
                if point == "upload.part-written":
                    assert status.headers["Range"] == "0-0"
                    assert http.patch(location, content=DATA).status_code == 202
                done = http.put(location, params={"digest": DIGEST})
                assert done.status_code == 201, done.text
                assert_blob_served_honestly(http)
            assert_pushes_again(http)
        assert any(key.endswith("/blobs/sha256/" + DIGEST.split(":")[1]) for key in stored_keys())
    finally:
        server.close()
