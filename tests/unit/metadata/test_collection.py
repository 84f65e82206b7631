"""berth.metadata.collection: which blobs garbage collection may take, the lock and the lease."""

from __future__ import annotations

import time

from sqlalchemy import Connection, update

from berth.metadata import blobs as blob_rows
from berth.metadata import collection
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.metadata.schema import blobs, repository_blobs

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
HOUR = 3600.0


def age(db: Database, seconds: float) -> None:
    """Make every blob row and link ``seconds`` older."""

    def work(conn: Connection) -> None:
        conn.execute(update(blobs).values(created_at=blobs.c.created_at - seconds))
        conn.execute(update(repository_blobs).values(created_at=repository_blobs.c.created_at - seconds))

    db.write_sync(work)


def pushed(db: Database, registry: RegistryRecord, repository: str, *digests: str) -> int:
    repo = db.write_sync(repository_rows.ensure, registry.id, repository).id
    for digest in digests:
        db.write_sync(blob_rows.record_blob, registry.id, digest, 10)
        db.write_sync(blob_rows.link, repo, digest)
    return repo


def manifest(db: Database, repo: int, *digests: str) -> None:
    content = ",".join(digests).encode()
    references = [manifest_rows.Reference(d, "blob") for d in digests]
    value = manifest_rows.ManifestInput(
        digest="sha256:" + "f" * 63 + str(len(digests)),
        media_type="x",
        content=content,
        references=references,
    )
    db.write_sync(manifest_rows.put, repo, value)


def test_an_old_unreferenced_blob_is_collectable_a_referenced_one_never(
    db: Database, registry: RegistryRecord
) -> None:
    repo = pushed(db, registry, "app", D1, D2)
    manifest(db, repo, D1)
    age(db, 2 * HOUR)

    assert db.read_sync(collection.collectable, registry.id, time.time() - HOUR) == [(D2, 10)]
    assert db.read_sync(collection.still_collectable, registry.id, D2, time.time() - HOUR)
    assert not db.read_sync(collection.still_collectable, registry.id, D1, time.time() - HOUR)


def test_blobs_and_links_younger_than_the_cutoff_are_kept(db: Database, registry: RegistryRecord) -> None:
    pushed(db, registry, "app", D1, D2)
    age(db, 2 * HOUR)
    pushed(db, registry, "other", D2)  # a fresh link to an old blob: a push in flight
    pushed(db, registry, "app", D3)  # a fresh blob

    assert db.read_sync(collection.collectable, registry.id, time.time() - HOUR) == [(D1, 10)]


def test_a_reference_from_another_registry_does_not_keep_a_blob(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    pushed(db, registry, "app", D1)
    manifest(db, pushed(db, second_registry, "app", D1), D1)
    age(db, 2 * HOUR)

    assert db.read_sync(collection.collectable, registry.id, time.time() - HOUR) == [(D1, 10)]
    assert db.read_sync(collection.collectable, second_registry.id, time.time() - HOUR) == []


def test_forget_removes_the_row_and_every_link_of_the_registry_only(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    app = pushed(db, registry, "app", D1)
    other = pushed(db, registry, "other", D1)
    pushed(db, second_registry, "app", D1)

    def work(conn: Connection) -> None:
        collection.lock_registry(conn, registry.id)
        collection.forget(conn, registry.id, D1)

    db.write_sync(work)

    assert db.read_sync(blob_rows.registry_blob_size, registry.id, D1) is None
    assert db.read_sync(blob_rows.missing_links, app, [D1]) == [D1]
    assert db.read_sync(blob_rows.missing_links, other, [D1]) == [D1]
    assert db.read_sync(blob_rows.registry_blob_size, second_registry.id, D1) == 10


def test_one_replica_holds_the_lease_until_it_expires(db: Database) -> None:
    now = 1000.0
    assert db.write_sync(collection.take_lease, "a", 60.0, now)
    assert not db.write_sync(collection.take_lease, "b", 60.0, now + 1)
    assert db.write_sync(collection.take_lease, "a", 60.0, now + 30)  # renewed
    assert not db.write_sync(collection.take_lease, "b", 60.0, now + 89)
    assert db.write_sync(collection.take_lease, "b", 60.0, now + 91)
    assert not db.write_sync(collection.take_lease, "a", 60.0, now + 92)
