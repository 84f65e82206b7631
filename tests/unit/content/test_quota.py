"""berth.content.quota: which limit applies, what usage counts, and the check racing uploads meet.

On SQLite and PostgreSQL (``database_url``): the check reads usage in the transaction that
records the blob, under the registry's collection lock, so two uploads racing for the last bytes
cannot both be recorded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.to_thread
import pytest

from berth import errors
from berth.content.quota import (
    SKU_INCLUDED_STORAGE,
    UNLIMITED_SETTING,
    StorageQuota,
    default_limit,
    registry_setting,
)
from berth.content.sessions import UploadSessions
from berth.content.uploads import SessionHashes
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata import manifests as manifest_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.metadata.usage import stored_bytes
from berth.names import Digest
from berth.sizes import GIB
from berth.storage import BlobStore, FilesystemDriver


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


@pytest.fixture
def registry(db: Database) -> RegistryRecord:
    return db.write_sync(registry_rows.create, "Quota", sku="Basic")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def record(db: Database, registry_id: str, data: bytes) -> str:
    digest = digest_of(data)
    db.write_sync(blob_rows.record_blob, registry_id, digest, len(data))
    return digest


# --- which limit applies ------------------------------------------------------------------------


def test_the_service_default_is_unlimited_sku_or_a_size() -> None:
    assert default_limit("unlimited", "Basic") is None
    assert default_limit("sku", "Basic") == 10 * GIB
    assert default_limit(" SKU", "Basic") == 10 * GIB
    assert default_limit("Unlimited", "Basic") is None
    assert default_limit("sku", "Standard") == 100 * GIB
    assert default_limit("sku", "Premium") == SKU_INCLUDED_STORAGE["Premium"] == 500 * GIB
    assert default_limit("20GiB", "Basic") == 20 * GIB


def test_a_registry_setting_overrides_the_default_and_default_returns_to_it(registry: RegistryRecord) -> None:
    assert registry_setting("default") is None
    assert registry_setting("Unlimited") == UNLIMITED_SETTING
    assert registry_setting("1.5GiB") == 3 * GIB // 2
    with pytest.raises(ValueError, match="not a size"):
        registry_setting("lots")

    from dataclasses import replace

    assert StorageQuota.of(registry, "sku") == StorageQuota("Quota", 10 * GIB, from_default=True)
    own = StorageQuota.of(replace(registry, storage_quota=1000), "sku")
    assert own == StorageQuota("Quota", 1000, from_default=False)
    assert StorageQuota.of(replace(registry, storage_quota=UNLIMITED_SETTING), "1GiB").limit is None


# --- usage and the check ------------------------------------------------------------------------


def test_usage_counts_each_blob_once_and_manifest_bytes(db: Database, registry: RegistryRecord) -> None:
    other = db.write_sync(registry_rows.create, "Other")
    digest = record(db, registry.id, b"x" * 100)
    for name in ("one", "two"):  # linked by two repositories: stored once
        repo = db.write_sync(repository_rows.ensure, registry.id, name)
        db.write_sync(blob_rows.link, repo.id, digest)
    record(db, other.id, b"y" * 1000)  # another registry's bytes are not this one's
    repo = db.write_sync(repository_rows.ensure, registry.id, "one")
    manifest = b'{"schemaVersion":2}'
    value = manifest_rows.ManifestInput(
        digest=digest_of(manifest), media_type="application/vnd.oci.image.manifest.v1+json", content=manifest
    )
    db.write_sync(manifest_rows.put, repo.id, value)

    assert db.read_sync(stored_bytes, registry.id) == 100 + len(manifest)


def test_the_check_refuses_past_the_limit_allows_an_exact_fit_and_stored_blobs(
    db: Database, registry: RegistryRecord
) -> None:
    stored = record(db, registry.id, b"x" * 60)
    quota = StorageQuota("Quota", 100, from_default=False)

    db.read_sync(quota.check, registry.id, digest_of(b"fits"), 40)  # 60 + 40 = 100: allowed
    db.read_sync(quota.check, registry.id, stored, 60)  # already stored: adds nothing
    with pytest.raises(WireError) as refused:
        db.read_sync(quota.check, registry.id, digest_of(b"too big"), 41)

    error = refused.value
    assert error.error is errors.DENIED
    assert error.http_status == 403
    assert errors.is_storage_quota_refusal(error)
    assert error.detail == {
        "reason": "storage_quota_exceeded",
        "registry": "Quota",
        "used": 60,
        "quota": 100,
        "size": 41,
    }
    assert "registry 'Quota' stores 60 B of its 100 B quota and this blob needs 41 B more" in error.text
    assert "berth acr gc -n Quota" in error.text
    assert "berth acr update -n Quota --storage-quota 1MiB" in error.text
    StorageQuota("Quota", None).check(
        cast(Any, None), registry.id, "sha256:x", 10**15
    )  # unlimited reads nothing


# --- two uploads racing for the last bytes --------------------------------------------------------


class PausingStore:
    """A real filesystem store whose commit of one upload waits until the test lets it go on."""

    def __init__(self, store: BlobStore, paused_upload: str) -> None:
        self._store = store
        self.paused_upload = paused_upload
        self.reached = threading.Event()
        self.resume = threading.Event()

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        if upload_id == self.paused_upload:
            self.reached.set()
            assert self.resume.wait(60), "the test never let the paused commit go on"
        self._store.commit_upload(upload_id, parts, digest)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_of_two_uploads_racing_for_the_last_bytes_one_is_refused_and_leaves_nothing(
    db: Database, registry: RegistryRecord, tmp_path: Path
) -> None:
    store = FilesystemDriver(tmp_path).registry(registry.id)
    quota = StorageQuota("Quota", 150, from_default=False)
    first, second = b"a" * 100, b"b" * 100  # each fits alone, not both

    async def race() -> tuple[BaseException | None, int]:
        hashes = SessionHashes()
        plain = UploadSessions(registry.id, db, store, hashes, quota)
        upload_a = await plain.start("app")
        upload_b = await plain.start("app")
        pausing = PausingStore(store, upload_a.id)
        paused = UploadSessions(registry.id, db, cast(BlobStore, pausing), hashes, quota)
        outcome: list[BaseException | None] = []

        async def complete_a() -> None:
            try:
                await paused.complete(upload_a, Digest.parse(digest_of(first)), _body(first), len(first))
                outcome.append(None)
            except WireError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(complete_a)
            await anyio.to_thread.run_sync(pausing.reached.wait, 60)  # A passed its early check
            size = await plain.complete(upload_b, Digest.parse(digest_of(second)), _body(second), len(second))
            pausing.resume.set()
        return outcome[0], size

    refusal, size_b = anyio.run(race)

    assert size_b == 100
    assert refusal is not None
    assert errors.is_storage_quota_refusal(refusal), refusal
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, digest_of(second)) == 100
    assert db.read_sync(blob_rows.registry_blob_size, registry.id, digest_of(first)) is None
    assert store.stat(digest_of(first)) is None  # the refused upload's bytes were removed again
    assert store.stat(digest_of(second)) == 100
    assert db.read_sync(stored_bytes, registry.id) == 100
    assert db.read_sync(blob_rows.uploads_changed_before, float("inf")) == []  # both sessions ended
    assert list(store.upload_ids()) == []  # and no part is left
