"""Finding 7 of issue 8: a full disk answers ``507 INSUFFICIENT_STORAGE``, not ``500 UNKNOWN``.

Each test mounts a small tmpfs (the suites run as root, as CI does) as berth's blob storage or
as its whole data folder, fills it, and checks the answer, the failed push's repository event,
that nothing partial was kept, that older blobs are intact, that the service keeps serving,
what ``berth acr check-health`` reports, and what ``docker push`` prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from berth.events import store
from berth.events.store import EventFilter
from berth.metadata.database import Database
from tests.support.dockerd import DockerDaemon
from tests.support.images import random_blob, rootfs_tarball, sha256_digest
from tests.support.server import BerthServer

MIB = 1024 * 1024
PATIENCE = 30.0
OWNER_PASSWORD = "disk-full-owner-password-1"

pytestmark = pytest.mark.allow_server_errors(507)


@contextmanager
def tmpfs(path: Path, size_mib: int) -> Iterator[Path]:
    """A tmpfs of ``size_mib`` MiB mounted at ``path`` (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        raise RuntimeError("the disk-full suite mounts tmpfs file systems: run it as root (CI does)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Write a filler file in ``folder`` until its volume has ``leave_bytes`` free (or is full)."""
    filler = folder / "filler"
    with filler.open("wb") as out, suppress(OSError):  # ENOSPC: full
        for _ in range(100_000):
            stats = os.statvfs(folder)
            free = stats.f_bavail * stats.f_frsize - leave_bytes
            if free <= 0:
                break
            out.write(b"\0" * min(MIB, free))
            out.flush()
    return filler


def push_blob(client: httpx.Client, repository: str, data: bytes) -> httpx.Response:
    """POST then PUT ?digest= with the whole blob; the first answer that is not a success (its
    ``request.url`` is then the upload session's)."""
    started = client.post(f"/v2/{repository}/blobs/uploads/")
    if started.status_code != 202:
        return started
    location = started.headers["location"]
    return client.put(
        location,
        params={"digest": sha256_digest(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )


def failed_events(database_url: str) -> list[dict[str, Any]]:
    """The failed repository events, read from the database berth writes them to."""
    db = Database(database_url)
    deadline = time.monotonic() + PATIENCE
    try:
        while True:
            rows = db.read_sync(store.repository_query, EventFilter(failed_only=True))
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.25)  # the writer thread flushes every quarter second
    finally:
        db.dispose()


def files_in(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def test_a_blob_that_does_not_fit_answers_507_and_changes_nothing(tmp_path: Path, database_url: str) -> None:
    with (
        tmpfs(tmp_path / "blobs", 8) as blobs,
        BerthServer(
            tmp_path / "berth",
            database_url=database_url,
            args=["--insecure-no-auth", "--storage-path", str(blobs)],
        ) as server,
        httpx.Client(base_url=server.url, timeout=PATIENCE, trust_env=False) as client,
    ):
        old = random_blob(64 * 1024)
        assert push_blob(client, "team/app", old).status_code == 201
        stored_before = files_in(blobs)
        big = random_blob(16 * MIB)

        answer = push_blob(client, "team/app", big)

        assert answer.status_code == 507
        assert answer.reason_phrase == "Insufficient Storage"
        error = answer.json()["errors"][0]
        assert error["code"] == "INSUFFICIENT_STORAGE"
        assert error["detail"] == {"reason": "disk_full"}
        assert error["message"].startswith("the registry's storage is full (disk full): the write was not")
        assert answer.headers["x-ms-correlation-request-id"] in error["message"]
        # Nothing partial is kept, the older blob is intact, and the service keeps serving.
        assert client.head(f"/v2/team/app/blobs/{sha256_digest(big)}").status_code == 404
        assert files_in(blobs) == stored_before  # the failed chunk's part is gone at once
        assert client.delete(str(answer.request.url.copy_with(query=None))).status_code == 204
        assert client.get(f"/v2/team/app/blobs/{sha256_digest(old)}").content == old
        newer = random_blob(64 * 1024)
        assert push_blob(client, "team/app", newer).status_code == 201
        assert client.get("/healthz").json() == {"status": "ok", "storage": "full"}

        events = failed_events(database_url)
        log = server.log()

    assert [(e["operation"], e["repository"], e["digest"], e["result_description"]) for e in events] == [
        ("Push", "team/app", sha256_digest(big), "507")
    ]
    assert events[0]["result_type"] == "Failed"
    assert events[0]["correlation_id"] == answer.headers["x-ms-correlation-request-id"]
    assert "out of space (disk_full) serving PUT /v2/team/app/blobs/uploads/" in log
    assert "No space left on device" in log
    assert "Traceback" not in log


def test_a_full_metadata_database_answers_507_until_space_is_freed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'data' / 'metadata.db'}"
    with (
        tmpfs(tmp_path / "data", 16) as data,
        BerthServer(
            data,
            args=["--insecure-no-auth", "--storage-path", str(tmp_path / "blobs")],
            log_path=tmp_path / "berth.log",
        ) as server,
        httpx.Client(base_url=server.url, timeout=PATIENCE, trust_env=False) as client,
    ):
        old = random_blob(1024)
        assert push_blob(client, "team/db", old).status_code == 201
        filler = fill(data)

        refused = push_blob(client, "team/db", random_blob(1024))

        assert refused.status_code == 507
        error = refused.json()["errors"][0]
        assert (error["code"], error["detail"]) == ("INSUFFICIENT_STORAGE", {"reason": "database_full"})
        assert client.get(f"/v2/team/db/blobs/{sha256_digest(old)}").content == old
        assert client.get("/healthz").json()["storage"] == "full"

        filler.unlink()
        assert push_blob(client, "team/db", random_blob(1024)).status_code == 201
        # The event of the refused push waited in memory and is written once there is room.
        events = failed_events(database_url)
        log = server.log()

    assert [(e["operation"], e["repository"], e["result_description"]) for e in events] == [
        ("Push", "team/db", "507")
    ]
    assert "out of space (database_full)" in log
    assert "database or disk is full" in log


def _berth(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "DOCKER_"))}
    env["BERTH_CONFIG_DIR"] = str(config_dir)
    return subprocess.run(
        [sys.executable, "-m", "berth", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _storage_finding(config_dir: Path) -> dict[str, Any]:
    result = _berth(config_dir, "acr", "check-health", "-n", "default", "--ignore-errors", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    found = [
        f for f in report["findings"] if "Storage" in f["message"] or f.get("code", "").startswith("STORAGE")
    ]
    assert len(found) == 1, report
    finding: dict[str, Any] = found[0]
    return finding


def test_check_health_reports_low_and_full_storage(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    with (
        tmpfs(tmp_path / "blobs", 8) as blobs,
        BerthServer(
            tmp_path / "berth",
            args=["--storage-path", str(blobs), "--storage-low-free-mb", "4"],
            env={"BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD},
        ) as server,
    ):
        login = ["login", "-u", "admin@localhost", "-p", OWNER_PASSWORD, "--server", server.url]
        assert _berth(config_dir, *login).returncode == 0
        assert _berth(config_dir, "acr", "update", "-n", "default", "--admin-enabled", "true").returncode == 0
        credentials = json.loads(_berth(config_dir, "acr", "credential", "show", "-n", "default").stdout)
        admin = (credentials["username"], credentials["passwords"][0]["value"])
        ok = _storage_finding(config_dir)

        filler = fill(blobs, leave_bytes=2 * MIB)
        low = _storage_finding(config_dir)
        with httpx.Client(base_url=server.url, auth=admin, timeout=PATIENCE, trust_env=False) as client:
            assert push_blob(client, "team/full", random_blob(4 * MIB)).status_code == 507
        full = _storage_finding(config_dir)
        filler.unlink()
        recovered = _storage_finding(config_dir)

    assert (ok["status"], ok["message"]) == (
        "ok",
        f"Storage of the service behind localhost:{server.port} : OK",
    )
    assert (low["status"], low["code"]) == ("warning", "STORAGE_LOW_SPACE_WARNING")
    assert "low on disk space" in low["cause"]
    assert (full["status"], full["code"]) == ("error", "STORAGE_FULL_ERROR")
    assert "507 Insufficient Storage" in full["cause"]
    assert "frees space on the volume of berth's storage_path" in full["fix"]
    assert recovered["status"] == "ok"


def test_docker_push_into_a_full_registry_names_the_cause(tmp_path: Path, dockerd: DockerDaemon) -> None:
    tarball = rootfs_tarball(tmp_path / "rootfs.tar", size=12 * MIB)  # random: it stays 12 MiB gzipped
    with (
        tmpfs(tmp_path / "blobs", 8) as blobs,
        BerthServer(tmp_path / "berth", args=["--insecure-no-auth", "--storage-path", str(blobs)]) as server,
    ):
        image = f"{server.address}/full/app:v1"
        dockerd.run("import", str(tarball), image)
        pushed = dockerd.run("push", image, check=False, timeout=600)
        health = httpx.get(f"{server.url}/healthz", timeout=PATIENCE).json()
        dockerd.run("rmi", image, check=False)

    assert pushed.returncode != 0
    assert "received unexpected HTTP status: 507 Insufficient Storage" in pushed.stderr
    assert health["storage"] == "full"
