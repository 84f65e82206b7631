"""Garbage collection running over and over while images are pushed: no referenced blob is lost.

Pushers push blobs then a manifest, as docker does, retrying a push the way docker does when a
manifest PUT is refused because a blob was collected in between (possible only because the grace
period here is tiny). A collector on its own database engine, as another replica would be, sweeps
the registry in a loop with that tiny grace period. Afterwards every manifest whose PUT
succeeded has all its blobs present, listed and readable byte for byte; a blob left behind
without a manifest is freed. Without the locked re-check in the sweep this fails.
"""

from __future__ import annotations

import json
import threading
import time

from berth.app import BerthApp
from berth.content.collector import GarbageCollector
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.storage import FilesystemDriver
from tests.api.oci import OCI_MANIFEST, TestClient, canonical, digest_of, image_manifest, push_manifest

PUSHERS = 4
IMAGES = 6
SHARED_LAYER = b"a layer every image shares"
GRACE_SECONDS = 0.3  # tiny, so that the collector races the pushes
# How often one image may be pushed again before the test gives up; a pusher loses the race only
# when a sweep falls between its blobs and its manifest, so a handful of attempts is the norm.
PUSH_ATTEMPTS = 50


def _try_blob(client: TestClient, repository: str, data: bytes) -> bool:
    started = client.post(f"/v2/{repository}/blobs/uploads/")
    assert started.status_code == 202, started.text
    done = client.put(
        started.headers["Location"],
        params={"digest": digest_of(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code in (201, 404), done.text  # 404: the GC swept an older copy meanwhile
    return bool(done.status_code == 201)


def _push(client: TestClient, repository: str, seed: str) -> tuple[str, list[bytes]]:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    blobs = [config, SHARED_LAYER, f"own layer of {seed}".encode()]
    body = canonical(image_manifest(config, blobs[1:]))
    refusals: list[str] = []
    for _ in range(PUSH_ATTEMPTS):  # docker pushes the blobs again when the manifest is refused
        if not all(_try_blob(client, repository, data) for data in blobs):
            refusals.append("a blob's upload found an older copy swept (404)")
            continue
        response = push_manifest(client, repository, seed, body, OCI_MANIFEST)
        if response.status_code == 201:
            return digest_of(body), blobs
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN", response.text
        refusals.append("the manifest named a blob swept meanwhile (MANIFEST_BLOB_UNKNOWN)")
    raise AssertionError(
        f"image {seed} was not pushed in {PUSH_ATTEMPTS} attempts: each time the collector (grace "
        f"{GRACE_SECONDS} s) swept one of its blobs before the manifest followed. Every refusal was "
        f"the correct one ({'; '.join(sorted(set(refusals)))}), but this machine is too slow for so "
        "short a grace period: raise GRACE_SECONDS."
    )


def test_collection_during_pushes_never_takes_a_referenced_blob(app: BerthApp, client: TestClient) -> None:
    settings = app.services.settings
    registry = app.services.db.read_sync(registry_rows.list_all)[0]
    replica_db = Database(settings.database_url)
    collector = GarbageCollector(
        replica_db, FilesystemDriver(settings.resolved_storage_path), grace_seconds=GRACE_SECONDS
    )
    pushed: list[tuple[str, str, list[bytes]]] = []
    orphans: list[str] = []
    done = threading.Event()
    sweeps = {"runs": 0, "freed": 0}
    failures: list[BaseException] = []

    def pusher(index: int) -> None:
        try:
            for image in range(IMAGES):
                repository = f"team/app{index}"
                digest, blobs = _push(client, repository, f"{index}-{image}")
                pushed.append((repository, digest, blobs))
                orphan = f"left behind by {index}-{image}".encode()
                if _try_blob(client, repository, orphan):
                    orphans.append(digest_of(orphan))
        except BaseException as error:
            failures.append(error)

    def sweeper() -> None:
        try:
            while not done.is_set():
                sweeps["freed"] += collector.collect(registry.id).blobs
                sweeps["runs"] += 1
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
    gc_thread = threading.Thread(target=sweeper)
    gc_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    gc_thread.join()
    final = collector.collect(registry.id, now=time.time() + 5)
    replica_db.dispose()

    assert failures == []
    assert len(pushed) == PUSHERS * IMAGES
    assert sweeps["runs"] > 0
    for repository, digest, blobs in pushed:
        manifest = client.get(f"/v2/{repository}/manifests/{digest}", headers={"Accept": OCI_MANIFEST})
        assert manifest.status_code == 200, manifest.text
        for data in blobs:
            read = client.get(f"/v2/{repository}/blobs/{digest_of(data)}")
            assert read.status_code == 200, (repository, digest_of(data), read.text)
            assert read.content == data
    store = FilesystemDriver(settings.resolved_storage_path).registry(registry.id)
    assert all(store.stat(orphan) is None for orphan in orphans)
    assert sweeps["freed"] + final.blobs >= len(set(orphans))
