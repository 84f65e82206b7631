"""berth.content.collector: the sweep frees unreferenced blobs' bytes, reports, and keeps the rest."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.content.collector import GarbageCollector
from berth.metadata import blobs as blob_rows
from berth.metadata import collection
from berth.metadata import manifests as manifest_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.storage import FilesystemDriver

HOUR = 3600.0


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


def store_blob(db: Database, driver: FilesystemDriver, registry_id: str, repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store = driver.registry(registry_id)
    writer = store.part_writer("u", "p")
    writer.write(data)
    writer.close()
    store.commit_upload("u", ["p"], digest)
    store.delete_upload("u")
    db.write_sync(blob_rows.record_blob, registry_id, digest, len(data))
    repo = db.write_sync(repository_rows.ensure, registry_id, repository)
    db.write_sync(blob_rows.link, repo.id, digest)
    return digest


def reference(db: Database, registry_id: str, repository: str, digest: str) -> None:
    repo = db.write_sync(repository_rows.ensure, registry_id, repository)
    value = manifest_rows.ManifestInput(
        digest="sha256:" + "e" * 64,
        media_type="application/vnd.oci.image.manifest.v1+json",
        content=b"{}",
        references=[manifest_rows.Reference(digest, "blob")],
    )
    db.write_sync(manifest_rows.put, repo.id, value)


def test_unreferenced_blobs_are_freed_referenced_and_young_ones_kept(db: Database, tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = db.write_sync(registry_rows.create, "Collect")
    kept = store_blob(db, driver, registry.id, "app", b"referenced")
    orphan = store_blob(db, driver, registry.id, "app", b"orphan!")
    reference(db, registry.id, "app", kept)
    collector = GarbageCollector(db, driver, grace_seconds=HOUR)
    store = driver.registry(registry.id)

    assert collector.collect(registry.id).blobs == 0  # everything is younger than the grace period
    later = time.time() + 2 * HOUR
    dry = collector.collect(registry.id, dry_run=True, now=later)
    assert (dry.blobs, dry.bytes, dry.digests) == (1, 7, (orphan,))
    assert store.stat(orphan) == 7
    assert str(dry) == "would free 1 unreferenced blob(s), 7 bytes"

    report = collector.collect(registry.id, now=later)

    assert (report.blobs, report.bytes, report.digests) == (1, 7, (orphan,))
    assert str(report) == "freed 1 unreferenced blob(s), 7 bytes"
    assert store.stat(orphan) is None
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, orphan) is None
    assert store.stat(kept) == 10
    assert collector.collect(registry.id, now=later).blobs == 0


def test_the_sweep_rechecks_a_candidate_referenced_after_the_mark(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = db.write_sync(registry_rows.create, "Collect")
    digest = store_blob(db, driver, registry.id, "app", b"late manifest")
    later = time.time() + 2 * HOUR
    marked = db.read_sync(collection.collectable, registry.id, later - HOUR)
    assert marked == [(digest, 13)]
    reference(db, registry.id, "app", digest)  # a manifest PUT commits between mark and sweep

    monkeypatch.setattr(collection, "collectable", lambda *_args, **_kw: marked)
    report = GarbageCollector(db, driver, grace_seconds=HOUR).collect(registry.id, now=later)

    assert report.blobs == 0
    assert driver.registry(registry.id).stat(digest) == 13


def test_collect_all_covers_every_registry_and_the_lease_elects_one_collector(
    db: Database, tmp_path: Path
) -> None:
    driver = FilesystemDriver(tmp_path)
    first = db.write_sync(registry_rows.create, "First")
    second = db.write_sync(registry_rows.create, "Second")
    store_blob(db, driver, first.id, "app", b"one")
    store_blob(db, driver, second.id, "app", b"two")
    one, two = GarbageCollector(db, driver, grace_seconds=0), GarbageCollector(db, driver, grace_seconds=0)

    assert one.lead()
    assert not two.lead()
    reports = one.collect_all(now=time.time() + 1)

    assert sorted((r.registry_id, r.blobs) for r in reports) == sorted([(first.id, 1), (second.id, 1)])


def test_the_retention_policy_deletes_old_untagged_manifests_and_frees_their_blobs(
    db: Database, tmp_path: Path
) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = db.write_sync(registry_rows.create, "Retain")
    layer = store_blob(db, driver, registry.id, "app", b"layer of an untagged image")
    reference(db, registry.id, "app", layer)
    collector = GarbageCollector(db, driver, grace_seconds=HOUR)
    later = time.time() + 10 * 86400.0

    assert collector.collect(registry.id, now=later).manifests == ()  # the policy is off by default
    db.write_sync(collection.set_retention, registry.id, True, 7)
    assert db.read_sync(collection.get_retention, registry.id) == (True, 7)

    report = collector.collect(registry.id, now=later)

    assert report.manifests == ("app@sha256:" + "e" * 64,)
    assert report.digests == (layer,)
    assert driver.registry(registry.id).stat(layer) is None
    assert str(report).endswith("; deleted 1 untagged manifest(s) by the retention policy")
