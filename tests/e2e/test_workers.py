"""``berth serve --workers 2`` on the default engine (SQLite): a supervisor and two worker
processes on one port. The workers are replaced when one dies, all stop cleanly on SIGTERM
and die with a killed supervisor; the metrics are the sum of the workers'; a brute-force
lockout reached through the port holds whichever worker answers, and a tag overwrite is seen
whichever worker answers (both through the SQLite invalidation table)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerFactory
from tests.support.access_setup import AccessSetup
from tests.support.ports import free_port
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# A new connection per request, so that the kernel may hand it to either worker.
FRESH = {"Connection": "close"}


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(child) for child in path.read_text().split()} if path.exists() else set()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:.0f} s: {what}")
        time.sleep(0.02)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _push(http: httpx.Client, marker: str) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux", "marker": marker}).encode()
    assert (
        http.post(
            "/v2/w/moving/blobs/uploads/", params={"digest": _digest(config)}, content=config
        ).status_code
        == 201
    )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    put = http.put("/v2/w/moving/manifests/latest", content=manifest, headers={"Content-Type": MANIFEST})
    assert put.status_code == 201, put.text
    return _digest(manifest)


def _everywhere(http: httpx.Client, digest: str) -> bool:
    """Six fresh connections in a row (either worker may take each) all answer ``digest``."""
    return all(
        http.head("/v2/w/moving/manifests/latest", headers={"Accept": MANIFEST, **FRESH}).headers.get(
            "Docker-Content-Digest"
        )
        == digest
        for _ in range(6)
    )


def test_two_workers_share_the_port_and_are_supervised(make_berth_server: ServerFactory) -> None:
    metrics_port = free_port()
    server = make_berth_server(
        extra_args=["--workers", "2"], env={"BERTH_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
    )
    assert server.process is not None
    supervisor = server.process.pid
    eventually(lambda: len(_children(supervisor)) == 2, "two workers")
    workers = _children(supervisor)

    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
        for _ in range(20):
            assert http.get("/v2/", headers=FRESH).status_code == 200
        # A tag overwritten through one worker is seen through the port, whichever answers.
        for number in range(3):
            _push(http, f"old-{number}")
            new = _push(http, f"new-{number}")
            eventually(partial(_everywhere, http, new), "every worker serves the new digest")
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", trust_env=False).text
        served = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("berth_request_duration_seconds_count{") and 'method="GET"' in line
        )
        assert served >= 20  # the supervisor sums both workers' counts

        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        eventually(
            lambda: len(_children(supervisor)) == 2 and victim not in _children(supervisor), "a new worker"
        )
        eventually(lambda: http.get("/v2/").status_code == 200, "serving after a worker died")

    assert server.stop(signal.SIGTERM) == 0
    assert not [pid for pid in workers if pid != victim and _alive(pid)]


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))


def test_both_workers_accept_connections_from_their_own_sockets(make_berth_server: ServerFactory) -> None:
    """Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads the
    connections over them: 32 connections held open at once land on both workers."""
    server = make_berth_server(extra_args=["--workers", "2"])
    assert server.process is not None
    supervisor = server.process.pid
    eventually(lambda: len(_children(supervisor)) == 2, "two workers")
    workers = sorted(_children(supervisor))
    listeners = _listening(server.port)
    assert len(listeners) == 2, listeners  # two listening sockets on the one port
    before = {pid: _sockets(pid) for pid in workers}
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(32)]
    try:
        for sock in held:  # an answer on each: every connection has been accepted by a worker
            sock.sendall(f"GET /v2/ HTTP/1.1\r\nHost: {server.address}\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 ")
        gained = {pid: _sockets(pid) - before[pid] for pid in workers}
    finally:
        for sock in held:
            sock.close()
    assert all(count > 0 for count in gained.values()), gained  # (other sockets may come and go)
    assert server.stop(signal.SIGTERM) == 0


def _listening(port: int) -> list[str]:
    """The listening TCP sockets on ``port`` (/proc/net/tcp, state 0A)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return [row for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"]


def test_the_workers_die_with_a_killed_supervisor(make_berth_server: ServerFactory) -> None:
    server = make_berth_server(extra_args=["--workers", "2"])
    assert server.process is not None
    supervisor = server.process.pid
    eventually(lambda: len(_children(supervisor)) == 2, "two workers")
    workers = _children(supervisor)
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    eventually(lambda: not any(_alive(pid) for pid in workers), "the workers are gone")


def test_a_lockout_holds_on_every_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "berth"
    setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
    try:
        sp = setup.service_principal("guessed", role="AcrPull")
        with (
            BerthServer(data_dir, args=["--workers", "2"]) as server,
            httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http,
        ):
            for _ in range(10):  # auth_failures_per_identity, spread over the two workers
                assert http.get("/v2/", auth=(sp.app_id, "wrong"), headers=FRESH).status_code == 401
            eventually(
                lambda: all(
                    http.get("/v2/", auth=(sp.app_id, sp.secret), headers=FRESH).status_code == 429
                    for _ in range(8)
                ),
                "the right password is refused by every worker during the lockout",
            )
    finally:
        setup.close()
