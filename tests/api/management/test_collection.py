"""garbageCollect (``berth acr gc``): what a collection frees, dry runs, and who may run one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlalchemy import Connection, update

from berth.app import BerthApp
from berth.metadata import blobs as blob_rows
from berth.metadata import manifests as manifest_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.schema import blobs, manifests, repository_blobs, tags
from tests.api.management.arm import ArmCaller, assert_arm_error

DAY = 86400.0


def _old_orphan(app: BerthApp, registry_name: str, data: bytes) -> tuple[str, str]:
    """A blob pushed a day ago that no manifest references: (registry id, digest)."""
    db, storage = app.services.db, app.services.storage
    record = db.read_sync(registry_rows.get_by_name, registry_name)
    assert record is not None
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store = storage.registry(record.id)
    writer = store.part_writer("u", "p")
    writer.write(data)
    writer.close()
    store.commit_upload("u", ["p"], digest)
    store.delete_upload("u")
    db.write_sync(blob_rows.record_blob, record.id, digest, len(data))
    db.write_sync(blob_rows.link, db.write_sync(repository_rows.ensure, record.id, "app").id, digest)

    def age(conn: Connection) -> None:
        conn.execute(update(blobs).values(created_at=blobs.c.created_at - DAY))
        conn.execute(update(repository_blobs).values(created_at=repository_blobs.c.created_at - DAY))

    db.write_sync(age)
    return record.id, digest


def test_a_dry_run_lists_and_a_collection_frees(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("gcreg")
    registry_id, digest = _old_orphan(app, "gcreg", b"nobody wants me")
    path = owner.registry("gcreg") + "/garbageCollect"

    dry = owner.ok(owner.post(path, {"dryRun": True}))
    freed = owner.ok(owner.post(path, {}))
    again = owner.ok(owner.post(path, {}))

    assert dry == {
        "registry": "gcreg",
        "dryRun": True,
        "blobsFreed": 1,
        "bytesFreed": 15,
        "digests": [digest],
        "summary": "would free 1 unreferenced blob(s), 15 bytes",
    }
    assert (freed["dryRun"], freed["blobsFreed"], freed["digests"]) == (False, 1, [digest])
    assert app.services.storage.registry(registry_id).stat(digest) is None
    assert again["blobsFreed"] == 0


def test_a_reader_may_not_collect(owner: ArmCaller, principal: Callable[..., ArmCaller]) -> None:
    owner.create_registry("gcreg")
    reader = principal("Reader", owner.registry("gcreg"))

    assert_arm_error(reader.post(owner.registry("gcreg") + "/garbageCollect", {}), 403, "AuthorizationFailed")


def _tagged(
    app: BerthApp,
    registry_name: str,
    repository: str,
    tag: str,
    n: int,
    days_old: float,
    *,
    locked: bool = False,
) -> None:
    db = app.services.db
    record = db.read_sync(registry_rows.get_by_name, registry_name)
    assert record is not None
    digest = "sha256:" + f"{n:x}" * 64

    def work(conn: Connection) -> None:
        repo = repository_rows.ensure(conn, record.id, repository)
        manifest_rows.put(
            conn, repo.id, manifest_rows.ManifestInput(digest=digest, media_type="x", content=b"m")
        )
        repository_rows.put_tag(conn, repo.id, tag, digest)
        if locked:
            repository_rows.set_tag_attributes(conn, repo.id, tag, {"delete_enabled": False})
        conn.execute(
            update(tags).where(tags.c.name == tag).values(updated_at=tags.c.updated_at - days_old * DAY)
        )
        conn.execute(
            update(manifests)
            .where(manifests.c.digest == digest)
            .values(updated_at=manifests.c.updated_at - DAY * 90)
        )

    db.write_sync(work)


def test_purge_deletes_old_tags_and_untagged_manifests_and_skips_locks(
    owner: ArmCaller, app: BerthApp
) -> None:
    owner.create_registry("purgereg")
    _tagged(app, "purgereg", "team/web", "old", 1, 40)
    _tagged(app, "purgereg", "team/web", "new", 2, 0)
    _tagged(app, "purgereg", "team/web", "pinned", 3, 40, locked=True)
    record = app.services.db.read_sync(registry_rows.get_by_name, "purgereg")
    assert record is not None
    web = app.services.db.read_sync(repository_rows.get, record.id, "team/web")
    assert web is not None
    path = owner.registry("purgereg") + "/purge"
    body = {"filters": ["team/.*:.*"], "agoSeconds": 30 * DAY, "untagged": True}

    dry = owner.ok(owner.post(path, {**body, "dryRun": True}))
    done = owner.ok(owner.post(path, body))

    assert dry == {**done, "dryRun": True}
    assert done["deletedTags"] == ["team/web:old"]
    assert done["deletedManifests"] == ["team/web@sha256:" + "1" * 64]
    assert done["locked"] == ["team/web:pinned"]
    assert sorted(t.name for t in app.services.db.read_sync(repository_rows.list_tags, web.id)) == [
        "new",
        "pinned",
    ]
    bad = owner.post(path, {**body, "filters": ["no-colon"]})
    assert_arm_error(bad, 400, "InvalidParameter")


def test_the_retention_policy_is_disabled_until_set(owner: ArmCaller) -> None:
    owner.create_registry("retreg")
    path = owner.registry("retreg") + "/retentionPolicy"

    before = owner.ok(owner.get(path))
    owner.ok(owner.put(path, {"status": "enabled", "days": 3, "type": "UntaggedManifests"}))
    after = owner.ok(owner.get(path))

    assert before == {"status": "disabled", "days": 7, "type": "UntaggedManifests"}
    assert after == {"status": "enabled", "days": 3, "type": "UntaggedManifests"}
    assert_arm_error(owner.put(path, {"status": "enabled", "days": 400}), 400, "InvalidRequestContent")


def test_list_usages_counts_stored_bytes_against_the_sku_limits(owner: ArmCaller, app: BerthApp) -> None:
    owner.create_registry("usagereg")
    _old_orphan(app, "usagereg", b"twelve bytes")

    usages = owner.ok(owner.get(owner.registry("usagereg") + "/listUsages"))

    assert usages == {
        "value": [
            {"name": "Size", "limit": 500 * 1024**3, "currentValue": 12, "unit": "Bytes"},
            {"name": "Webhooks", "limit": 500, "currentValue": 0, "unit": "Count"},
            {"name": "ScopeMaps", "limit": 50000, "currentValue": 0, "unit": "Count"},
            {"name": "Tokens", "limit": 50000, "currentValue": 0, "unit": "Count"},
        ]
    }
