"""berth.metadata.blobs: blobs per registry, links per repository, upload sessions."""

from __future__ import annotations

import time

from berth.metadata import blobs as blob_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
UPLOAD = "5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"


def repository(db: Database, registry: RegistryRecord, name: str) -> int:
    return db.write_sync(repository_rows.ensure, registry.id, name).id


def test_a_recorded_blob_has_a_size_per_registry(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    db.write_sync(blob_rows.record_blob, registry.id, D1, 10)
    db.write_sync(blob_rows.record_blob, registry.id, D1, 99)  # the first record stands

    assert db.read_sync(blob_rows.registry_blob_size, registry.id, D1) == 10
    assert db.read_sync(blob_rows.registry_blob_size, second_registry.id, D1) is None
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, D2) is None


def test_links_make_a_blob_visible_in_a_repository(db: Database, registry: RegistryRecord) -> None:
    app, other = repository(db, registry, "app"), repository(db, registry, "other")
    db.write_sync(blob_rows.record_blob, registry.id, D1, 10)
    db.write_sync(blob_rows.link, app, D1)
    db.write_sync(blob_rows.link, app, D1)  # linking twice is harmless

    assert [r.id for r in db.read_sync(blob_rows.repositories_linking, registry.id, D1)] == [app]
    assert db.read_sync(blob_rows.missing_links, other, [D1]) == [D1]


def test_unlink(db: Database, registry: RegistryRecord) -> None:
    app = repository(db, registry, "app")
    db.write_sync(blob_rows.record_blob, registry.id, D1, 10)
    db.write_sync(blob_rows.link, app, D1)

    assert db.write_sync(blob_rows.unlink, app, D1) is True
    assert db.write_sync(blob_rows.unlink, app, D1) is False
    assert db.read_sync(blob_rows.repositories_linking, registry.id, D1) == []
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, D1) == 10


def test_missing_links_keeps_order(db: Database, registry: RegistryRecord) -> None:
    app = repository(db, registry, "app")
    db.write_sync(blob_rows.link, app, D1)
    d3 = "sha256:" + "3" * 64

    assert db.read_sync(blob_rows.missing_links, app, [d3, D1, D2]) == [d3, D2]
    assert db.read_sync(blob_rows.missing_links, app, []) == []


def test_upload_session_lifecycle(db: Database, registry: RegistryRecord) -> None:
    created = db.write_sync(blob_rows.create_upload, UPLOAD, registry.id, "team/app")

    assert created.size == 0
    assert db.read_sync(blob_rows.get_upload, UPLOAD) == created
    assert db.write_sync(blob_rows.accept_part, UPLOAD, 0, "p1", 100) is True
    assert db.write_sync(blob_rows.accept_part, UPLOAD, 0, "p2", 50) is False  # a stale writer loses
    assert db.write_sync(blob_rows.accept_part, UPLOAD, 100, "p3", 7) is True
    found = db.read_sync(blob_rows.get_upload, UPLOAD)
    assert found is not None
    assert (found.size, found.repository, found.registry_id) == (107, "team/app", registry.id)
    assert found.parts == (blob_rows.UploadPart("p1", 0, 100), blob_rows.UploadPart("p3", 100, 7))
    assert found.consistent
    assert db.write_sync(blob_rows.delete_upload, UPLOAD, 100) is False  # the size moved on
    assert db.write_sync(blob_rows.delete_upload, UPLOAD, 107) is True
    assert db.write_sync(blob_rows.delete_upload, UPLOAD) is False
    assert db.read_sync(blob_rows.get_upload, UPLOAD) is None
    assert db.write_sync(blob_rows.accept_part, UPLOAD, 107, "p4", 1) is False  # a finished session


def test_a_session_without_its_parts_is_inconsistent(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.create_upload, UPLOAD, registry.id, "team/app")
    found = db.read_sync(blob_rows.get_upload, UPLOAD)
    assert found is not None

    assert blob_rows.UploadRecord(UPLOAD, registry.id, "r", 10, 0, 0).consistent is False
    gap = (blob_rows.UploadPart("a", 0, 4), blob_rows.UploadPart("b", 5, 5))
    assert blob_rows.UploadRecord(UPLOAD, registry.id, "r", 10, 0, 0, gap).consistent is False
    assert found.consistent


def test_large_upload_sizes_fit(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.create_upload, UPLOAD, registry.id, "team/app")
    big = 5 * 1024**4  # 5 TiB: past 32-bit integers

    assert db.write_sync(blob_rows.accept_part, UPLOAD, 0, "p", big) is True
    db.write_sync(blob_rows.record_blob, registry.id, D1, big)

    found = db.read_sync(blob_rows.get_upload, UPLOAD)
    assert found is not None
    assert found.size == big
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, D1) == big


def test_abandoned_sessions_are_found_by_age(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.create_upload, UPLOAD, registry.id, "team/app")

    assert [u.id for u in db.read_sync(blob_rows.uploads_changed_before, time.time() + 1)] == [UPLOAD]
    assert db.read_sync(blob_rows.uploads_changed_before, time.time() - 60) == []
    assert db.read_sync(blob_rows.existing_uploads, [UPLOAD, "other"]) == {UPLOAD}


def test_repositories_linking_a_blob(db: Database, registry: RegistryRecord) -> None:
    for name in ("b/two", "a/one", "c/none"):
        repo = db.write_sync(repository_rows.ensure, registry.id, name)
        if name != "c/none":
            db.write_sync(blob_rows.link, repo.id, D1)

    names = [r.name for r in db.read_sync(blob_rows.repositories_linking, registry.id, D1)]
    only = [r.name for r in db.read_sync(blob_rows.repositories_linking, registry.id, D1, "b/two")]
    none = db.read_sync(blob_rows.repositories_linking, registry.id, D1, "c/none")

    assert (names, only, none) == (["a/one", "b/two"], ["b/two"], [])
