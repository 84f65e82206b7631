"""How long a tag overwritten through one replica takes to be seen through another.

``python -m bench.replica_visibility [--rounds 50]`` starts a throwaway PostgreSQL, two
``berth serve`` replicas on it sharing one blob folder, and for each round: pushes a manifest
under ``latest`` through replica A, reads it through replica B until B has it cached, overwrites
the tag through A, then polls B (HEAD, back to back) until it answers with the new digest. It
prints the distribution of that delay. Before the invalidation bus, B's manifest cache held the
old answer up to its 1 s time-to-live; now the overwrite arrives over PostgreSQL ``NOTIFY``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.postgres import create_database, postgres_server
from tests.support.server import BerthServer

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _push(http: httpx.Client, marker: str) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux", "marker": marker}).encode()
    http.post("/v2/bench/moving/blobs/uploads/", params={"digest": _digest(config)}, content=config)
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
    answer = http.put(
        "/v2/bench/moving/manifests/latest", content=manifest, headers={"Content-Type": MANIFEST}
    )
    answer.raise_for_status()
    return _digest(manifest)


def _served(http: httpx.Client) -> str:
    answer = http.head("/v2/bench/moving/manifests/latest", headers={"Accept": MANIFEST})
    return str(answer.headers.get("Docker-Content-Digest", ""))


def measure(rounds: int) -> list[float]:
    delays: list[float] = []
    with postgres_server() as admin_url, tempfile.TemporaryDirectory() as root:
        database_url = create_database(admin_url)
        storage = Path(root) / "storage"
        args = ["--insecure-no-auth", "--storage-path", str(storage), "--workers", "1"]
        with (
            BerthServer(Path(root) / "a", database_url=database_url, args=args) as a,
            BerthServer(Path(root) / "b", database_url=database_url, args=args) as b,
            httpx.Client(base_url=a.url, trust_env=False) as writer,
            httpx.Client(base_url=b.url, trust_env=False) as reader,
        ):
            for number in range(rounds):
                old = _push(writer, f"old-{number}")
                while _served(reader) != old:
                    pass
                _served(reader)  # cached on B now
                new = _push(writer, f"new-{number}")
                started = time.perf_counter()
                while _served(reader) != new:
                    pass
                delays.append(time.perf_counter() - started)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    delays = sorted(d * 1000 for d in measure(parser.parse_args().rounds))
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    print(
        f"tag overwrite seen on another replica after: median {statistics.median(delays):.1f} ms, "
        f"p99 {p99:.1f} ms, max {delays[-1]:.1f} ms ({len(delays)} rounds; includes one HEAD round trip)"
    )


if __name__ == "__main__":
    main()
