"""Upload races over real HTTP: threads of clients hammer one session of a ``berth serve`` (finding 1).

Each round opens a session; one client sends the honest blob and completes it while others
send other bytes to the same session, complete it with their own digest, cancel it or ask
its status, all at once on separate connections. Whatever the interleaving, every digest
answered ``201`` is served with bytes that hash to it, and no request gets a 5xx. The rounds
are bounded; the server runs on loopback only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.server import BerthServer

ROUNDS = 25
REPOSITORY = "race/http"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthServer]:
    with BerthServer(tmp_path_factory.mktemp("race-http") / "data", args=["--insecure-no-auth"]) as berth:
        yield berth


class Round:
    """One session and the answers every client got on it."""

    def __init__(self, server: BerthServer, number: int) -> None:
        self.server = server
        self.number = number
        self.honest = hashlib.sha256(f"honest {number}".encode()).digest() * (2048 * (1 + number % 3))
        self.evil = b"EVIL" * (len(self.honest) // 4)
        self.completed: dict[str, bytes] = {}
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        with self._client() as http:
            self.location = str(http.post(f"/v2/{REPOSITORY}/blobs/uploads/").headers["Location"])

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=30.0, trust_env=False)

    def _record(self, digest: str | None, data: bytes, response: httpx.Response) -> None:
        with self._lock:
            self.statuses.append(response.status_code)
            if digest is not None and response.status_code == 201:
                self.completed[digest] = data

    def honest_client(self) -> None:
        with self._client() as http:
            self._record(None, self.honest, http.patch(self.location, content=self.honest))
            digest = digest_of(self.honest)
            self._record(digest, self.honest, http.put(self.location, params={"digest": digest}))

    def evil_patcher(self) -> None:
        with self._client() as http:
            for _ in range(3):
                body = iter([self.evil[:100], self.evil[100:]])
                self._record(None, self.evil, http.patch(self.location, content=body))

    def evil_completer(self) -> None:
        with self._client() as http:
            digest = digest_of(self.evil)
            self._record(
                digest, self.evil, http.put(self.location, params={"digest": digest}, content=self.evil)
            )

    def bystander(self) -> None:
        with self._client() as http:
            self._record(None, b"", http.get(self.location))
            if self.number % 5 == 0:
                self._record(None, b"", http.delete(self.location))

    def race(self) -> None:
        workers: list[Callable[[], None]] = [
            self.honest_client,
            self.evil_patcher,
            self.evil_completer,
            self.bystander,
        ]
        threads = [threading.Thread(target=worker) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive()


def test_clients_racing_on_one_session_never_poison_a_blob(server: BerthServer) -> None:
    completed: dict[str, bytes] = {}
    statuses: list[int] = []
    for number in range(ROUNDS):
        round_ = Round(server, number)
        round_.race()
        completed.update(round_.completed)
        statuses += round_.statuses

    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert completed, "no round completed an upload"
    with httpx.Client(base_url=server.url, timeout=30.0, trust_env=False) as http:
        for digest, data in completed.items():
            blob = http.get(f"/v2/{REPOSITORY}/blobs/{digest}")
            assert blob.status_code == 200, blob.text
            assert digest_of(blob.content) == digest
            assert blob.content == data
