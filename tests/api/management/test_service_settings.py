"""The service's storage settings over the management API: ``default_storage_quota`` for
registries without their own quota, and ``gc_grace_seconds`` honoured by garbageCollect."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import pytest
from sqlalchemy import Connection, update

from berth.app import BerthApp
from berth.config import Settings
from berth.metadata import blobs as blob_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.schema import blobs, repository_blobs
from tests.api.management.arm import ArmCaller

HOUR = 3600.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Registries without their own quota get ACR's included storage of their SKU; grace 3 h."""
    return replace(settings, default_storage_quota="sku", gc_grace_seconds=int(3 * HOUR))


def test_the_default_quota_applies_to_registries_without_their_own(owner: ArmCaller) -> None:
    owner.create_registry("skureg")
    owner.ok(owner.patch(owner.registry("skureg"), {"sku": {"name": "Basic"}}))

    shown = owner.ok(owner.get(owner.registry("skureg")))
    usages = owner.ok(owner.get(owner.registry("skureg") + "/listUsages"))

    assert (shown["properties"]["storageQuota"], shown["properties"]["storageQuotaSource"]) == (
        10 * 1024**3,
        "Default",
    )
    assert usages["value"][0] == {"name": "Size", "limit": 10 * 1024**3, "currentValue": 0, "unit": "Bytes"}


def _orphan(app: BerthApp, registry_name: str, data: bytes, age: float) -> str:
    """A blob no manifest references, recorded and linked ``age`` seconds ago; its digest."""
    db = app.services.db
    record = db.read_sync(registry_rows.get_by_name, registry_name)
    assert record is not None
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store = app.services.storage.registry(record.id)
    writer = store.part_writer("u", "p")
    writer.write(data)
    writer.close()
    store.commit_upload("u", ["p"], digest)
    store.delete_upload("u")
    db.write_sync(blob_rows.record_blob, record.id, digest, len(data))
    db.write_sync(blob_rows.link, db.write_sync(repository_rows.ensure, record.id, "app").id, digest)
    then = time.time() - age

    def backdate(conn: Connection) -> None:
        conn.execute(update(blobs).where(blobs.c.digest == digest).values(created_at=then))
        conn.execute(
            update(repository_blobs).where(repository_blobs.c.digest == digest).values(created_at=then)
        )

    db.write_sync(backdate)
    return digest


def test_garbage_collection_keeps_blobs_younger_than_gc_grace_seconds(
    owner: ArmCaller, app: BerthApp
) -> None:
    """With gc_grace_seconds = 3 h (the default is 1 h): a blob of 4 h is freed, one of 2 h kept."""
    owner.create_registry("gracereg")
    old = _orphan(app, "gracereg", b"four hours old", 4 * HOUR)
    young = _orphan(app, "gracereg", b"two hours old", 2 * HOUR)

    freed = owner.ok(owner.post(owner.registry("gracereg") + "/garbageCollect", {}))

    assert freed["digests"] == [old]
    assert young not in freed["digests"]
