"""berth.metadata.usage: the stored-bytes counter moves with every row that adds or removes
bytes, in the same transaction, and always equals the sum it stands for (both engines)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, delete

from berth.metadata import blobs as blob_rows
from berth.metadata import collection
from berth.metadata import manifests as manifest_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.metadata.schema import registry_usage
from berth.metadata.usage import (
    count_registries_without_counter,
    counted_bytes,
    reconcile,
    stored_bytes,
    usage,
)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest(db: Database, repository_id: int, content: bytes) -> str:
    value = manifest_rows.ManifestInput(
        digest=digest_of(content), media_type="application/vnd.oci.image.manifest.v1+json", content=content
    )
    db.write_sync(manifest_rows.put, repository_id, value)
    return value.digest


def agrees(db: Database, registry_id: str, expected: int) -> None:
    assert db.read_sync(stored_bytes, registry_id) == expected
    assert db.read_sync(counted_bytes, registry_id) == expected


def test_the_counter_follows_blobs_and_manifests(db: Database, registry: RegistryRecord) -> None:
    agrees(db, registry.id, 0)
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)  # the same blob again: once
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"b"), 50)
    agrees(db, registry.id, 150)

    one = db.write_sync(repository_rows.ensure, registry.id, "one")
    two = db.write_sync(repository_rows.ensure, registry.id, "two")
    first = manifest(db, one.id, b'{"m":1}')
    manifest(db, one.id, b'{"m":1}')  # already stored: a no-op
    manifest(db, one.id, b'{"m":22}')
    manifest(db, two.id, b'{"m":1}')  # the same manifest in another repository counts again
    agrees(db, registry.id, 150 + 7 + 8 + 7)

    db.write_sync(manifest_rows.remove, one.id, first)
    agrees(db, registry.id, 150 + 8 + 7)
    db.write_sync(repository_rows.remove, two.id)
    agrees(db, registry.id, 150 + 8)
    db.write_sync(blob_rows.forget_blob, registry.id, digest_of(b"b"))
    db.write_sync(collection.forget, registry.id, digest_of(b"a"))
    db.write_sync(collection.forget, registry.id, digest_of(b"never stored"))
    agrees(db, registry.id, 8)
    assert db.read_sync(usage, registry.id).size == 8


def test_registries_are_counted_apart(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)
    db.write_sync(blob_rows.record_blob, second_registry.id, digest_of(b"a"), 100)
    db.write_sync(blob_rows.record_blob, second_registry.id, digest_of(b"b"), 1)

    agrees(db, registry.id, 100)
    agrees(db, second_registry.id, 101)


def test_a_registry_of_an_older_berth_is_summed_then_counted(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)

    def forget_counter(conn: Connection) -> None:
        conn.execute(delete(registry_usage))

    db.write_sync(forget_counter)
    agrees(db, registry.id, 100)  # no counter: the sum
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"b"), 20)  # the first change creates it
    agrees(db, registry.id, 120)

    db.write_sync(forget_counter)
    assert db.write_sync(count_registries_without_counter) == 1  # at start
    assert db.write_sync(count_registries_without_counter) == 0
    agrees(db, registry.id, 120)


def test_reconcile_corrects_a_counter_that_drifted(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)
    db.write_sync(lambda conn: conn.execute(registry_usage.update().values(stored_bytes=7)))

    assert db.write_sync(reconcile, registry.id) == 93
    assert db.write_sync(reconcile, registry.id) == 0
    agrees(db, registry.id, 100)


def test_deleting_a_registry_deletes_its_counter(db: Database, registry: RegistryRecord) -> None:
    db.write_sync(blob_rows.record_blob, registry.id, digest_of(b"a"), 100)

    db.write_sync(registry_rows.remove, registry.id)

    rows = db.read_sync(lambda conn: conn.execute(registry_usage.select()).all())
    assert rows == []
