"""The shared storage driver suite: what every :class:`berth.storage.StorageDriver` must do.

A driver's test module subclasses :class:`DriverSuite` and provides the ``driver`` fixture,
returning a fresh, empty driver for each test::

    class TestFilesystemDriver(DriverSuite):
        @pytest.fixture
        def driver(self, tmp_path: Path) -> StorageDriver:
            return FilesystemDriver(tmp_path)

The suite speaks only the interface in ``berth/storage/interface.py``. Its contract, beyond
the docstrings there:

- reading or deleting a blob that is not stored: ``read`` raises ``FileNotFoundError``,
  ``delete`` returns False, ``stat`` and ``local_path`` return None;
- an upload writer opened at ``offset`` discards whatever the session held past ``offset``
  (a retried or failed chunk leaves stale bytes behind);
- nothing written to a session is visible as a blob before ``commit_upload``, which moves the
  session's bytes under the digest in one step and ends the session; committing a session
  that never received bytes makes the empty blob;
- ``delete_upload`` succeeds whether or not the session exists;
- the stores of two registries share nothing: blobs, sessions and deletion are per registry.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest

from berth.storage import BlobStore, StorageDriver

REGISTRY_A = "a" * 32
REGISTRY_B = "b" * 32
UPLOAD = "5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"
OTHER_UPLOAD = "0b6d1c9a-8e47-4f35-b2c1-7a9e5d3f4c28"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_session(store: BlobStore, upload_id: str, offset: int, *chunks: bytes) -> None:
    writer = store.upload_writer(upload_id, offset)
    try:
        for chunk in chunks:
            writer.write(chunk)
    finally:
        writer.close()


def store_blob(store: BlobStore, data: bytes, upload_id: str = UPLOAD) -> str:
    digest = digest_of(data)
    write_session(store, upload_id, 0, data)
    store.commit_upload(upload_id, digest)
    return digest


def joined(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


class DriverSuite:
    """Subclass as ``Test<Driver>`` and provide a ``driver`` fixture."""

    @pytest.fixture
    def driver(self) -> StorageDriver:
        raise NotImplementedError("a driver's test module provides the driver fixture")

    @pytest.fixture
    def store(self, driver: StorageDriver) -> BlobStore:
        return driver.registry(REGISTRY_A)

    # --- committed blobs --------------------------------------------------------------------

    def test_unknown_blob(self, store: BlobStore) -> None:
        missing = digest_of(b"never stored")

        assert store.stat(missing) is None
        assert store.local_path(missing) is None
        assert store.delete(missing) is False
        with pytest.raises(FileNotFoundError):
            joined(store.read(missing))

    def test_stat_and_read_a_committed_blob(self, store: BlobStore) -> None:
        data = b"committed blob"
        digest = store_blob(store, data)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data

    @pytest.mark.parametrize(
        ("offset", "length"),
        [
            (0, None),
            (0, 1),
            (5, 10),
            (5, None),
            (250, 6),
            (255, 1),
            (255, 100),
            (256, None),
            (300, 5),
            (0, 0),
        ],
    )
    def test_read_ranges(self, store: BlobStore, offset: int, length: int | None) -> None:
        data = bytes(range(256))
        digest = store_blob(store, data)

        expected = data[offset:] if length is None else data[offset : offset + length]

        assert joined(store.read(digest, offset, length)) == expected

    def test_large_blob_streams_in_bounded_chunks(self, store: BlobStore) -> None:
        data = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32 + 7)
        digest = digest_of(data)
        writer = store.upload_writer(UPLOAD, 0)
        for start in range(0, len(data), 65536):
            writer.write(data[start : start + 65536])
        writer.close()
        store.commit_upload(UPLOAD, digest)

        chunks = list(store.read(digest))

        assert b"".join(chunks) == data
        assert len(chunks) > 1
        assert max(len(chunk) for chunk in chunks) <= 8 * 1024 * 1024
        middle = joined(store.read(digest, 1_000_000, 2_000_000))
        assert middle == data[1_000_000:3_000_000]

    def test_empty_blob(self, store: BlobStore) -> None:
        digest = store_blob(store, b"")

        assert store.stat(digest) == 0
        assert joined(store.read(digest)) == b""

    def test_delete_removes_a_blob(self, store: BlobStore) -> None:
        digest = store_blob(store, b"to delete")

        assert store.delete(digest) is True

        assert store.stat(digest) is None
        assert store.delete(digest) is False
        with pytest.raises(FileNotFoundError):
            joined(store.read(digest))

    def test_local_path_when_offered_holds_the_bytes(self, store: BlobStore) -> None:
        data = b"maybe on local disk"
        digest = store_blob(store, data)

        path = store.local_path(digest)

        if path is not None:
            assert path.read_bytes() == data

    def test_sha512_digests_are_keys_too(self, store: BlobStore) -> None:
        data = b"sha512 content"
        digest = "sha512:" + hashlib.sha512(data).hexdigest()
        write_session(store, UPLOAD, 0, data)
        store.commit_upload(UPLOAD, digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data
        assert store.stat(digest_of(data)) is None

    # --- upload sessions --------------------------------------------------------------------

    def test_unknown_session(self, store: BlobStore) -> None:
        assert store.upload_size(UPLOAD) is None

    def test_writer_appends_at_the_offset(self, store: BlobStore) -> None:
        write_session(store, UPLOAD, 0, b"hello")
        write_session(store, UPLOAD, 5, b" ", b"world")

        assert store.upload_size(UPLOAD) == 11
        assert joined(store.read_upload(UPLOAD)) == b"hello world"

    def test_writer_discards_stale_bytes_past_its_offset(self, store: BlobStore) -> None:
        """A chunk that failed half-way left bytes the session never accepted."""
        write_session(store, UPLOAD, 0, b"hello world")
        write_session(store, UPLOAD, 5, b"!!")

        assert store.upload_size(UPLOAD) == 7
        assert joined(store.read_upload(UPLOAD)) == b"hello!!"

    def test_writer_at_zero_starts_over(self, store: BlobStore) -> None:
        write_session(store, UPLOAD, 0, b"first attempt")
        write_session(store, UPLOAD, 0, b"second")

        assert joined(store.read_upload(UPLOAD)) == b"second"

    def test_writer_opened_without_writing_truncates(self, store: BlobStore) -> None:
        write_session(store, UPLOAD, 0, b"0123456789")
        write_session(store, UPLOAD, 4)

        assert store.upload_size(UPLOAD) == 4
        assert joined(store.read_upload(UPLOAD)) == b"0123"

    def test_sessions_are_independent(self, store: BlobStore) -> None:
        write_session(store, UPLOAD, 0, b"one")
        write_session(store, OTHER_UPLOAD, 0, b"two!")

        assert joined(store.read_upload(UPLOAD)) == b"one"
        assert joined(store.read_upload(OTHER_UPLOAD)) == b"two!"
        assert store.upload_size(OTHER_UPLOAD) == 4

    def test_closed_writes_are_readable_by_a_new_store_object(self, driver: StorageDriver) -> None:
        """After close the bytes are durable: another handle (or process) sees them."""
        write_session(driver.registry(REGISTRY_A), UPLOAD, 0, b"durable")

        again = driver.registry(REGISTRY_A)

        assert again.upload_size(UPLOAD) == 7
        assert joined(again.read_upload(UPLOAD)) == b"durable"

    # --- commit -----------------------------------------------------------------------------

    def test_nothing_is_visible_before_commit(self, store: BlobStore) -> None:
        data = b"not yet a blob"
        digest = digest_of(data)
        writer = store.upload_writer(UPLOAD, 0)
        writer.write(data[:5])

        assert store.stat(digest) is None  # while the writer is open
        writer.write(data[5:])
        writer.close()
        assert store.stat(digest) is None  # written and closed, still not committed
        assert store.local_path(digest) is None
        with pytest.raises(FileNotFoundError):
            joined(store.read(digest))

        store.commit_upload(UPLOAD, digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data

    def test_commit_ends_the_session(self, store: BlobStore) -> None:
        store_blob(store, b"committed")

        assert store.upload_size(UPLOAD) is None

    def test_commit_of_a_session_without_bytes_makes_the_empty_blob(self, store: BlobStore) -> None:
        digest = digest_of(b"")

        store.commit_upload(UPLOAD, digest)

        assert store.stat(digest) == 0
        assert joined(store.read(digest)) == b""
        assert store.upload_size(UPLOAD) is None

    def test_commit_over_an_existing_blob_keeps_its_bytes(self, store: BlobStore) -> None:
        data = b"same content twice"
        digest = store_blob(store, data, UPLOAD)
        store_blob(store, data, OTHER_UPLOAD)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data
        assert store.upload_size(OTHER_UPLOAD) is None

    def test_readers_see_the_old_or_the_new_never_a_mix(self, store: BlobStore) -> None:
        """Commit is atomic for a concurrent reader of the digest: absent, then whole."""
        data = bytes(range(256)) * 8192  # 2 MiB
        digest = digest_of(data)
        write_session(store, UPLOAD, 0, data)
        seen: list[int | None] = []
        wrong: list[int] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                size = store.stat(digest)
                seen.append(size)
                if size is not None and size != len(data):
                    wrong.append(size)
                if size is not None:
                    body = joined(store.read(digest))
                    if body != data:
                        wrong.append(len(body))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            store.commit_upload(UPLOAD, digest)
            deadline = time.monotonic() + 10
            while (len(seen) < 5 or seen[-1] is None) and time.monotonic() < deadline:
                time.sleep(0.001)
        finally:
            stop.set()
            watcher.join(timeout=30)

        assert wrong == []
        assert seen[-1] == len(data)

    # --- deleting sessions ------------------------------------------------------------------

    def test_delete_upload_drops_the_bytes(self, store: BlobStore) -> None:
        write_session(store, UPLOAD, 0, b"abandoned")

        store.delete_upload(UPLOAD)

        assert store.upload_size(UPLOAD) is None

    def test_delete_upload_is_idempotent(self, store: BlobStore) -> None:
        store.delete_upload(UPLOAD)
        write_session(store, UPLOAD, 0, b"x")
        store.delete_upload(UPLOAD)
        store.delete_upload(UPLOAD)

        assert store.upload_size(UPLOAD) is None

    def test_delete_upload_leaves_committed_blobs_alone(self, store: BlobStore) -> None:
        digest = store_blob(store, b"kept")

        store.delete_upload(UPLOAD)

        assert joined(store.read(digest)) == b"kept"

    # --- registries -------------------------------------------------------------------------

    def test_registries_do_not_share_blobs(self, driver: StorageDriver) -> None:
        first, second = driver.registry(REGISTRY_A), driver.registry(REGISTRY_B)
        digest = store_blob(first, b"only in A")

        assert second.stat(digest) is None
        assert second.local_path(digest) is None
        assert second.delete(digest) is False
        with pytest.raises(FileNotFoundError):
            joined(second.read(digest))
        assert first.stat(digest) == len(b"only in A")

    def test_registries_do_not_share_sessions(self, driver: StorageDriver) -> None:
        first, second = driver.registry(REGISTRY_A), driver.registry(REGISTRY_B)
        write_session(first, UPLOAD, 0, b"session of A")

        assert second.upload_size(UPLOAD) is None
        second.delete_upload(UPLOAD)
        assert first.upload_size(UPLOAD) == len(b"session of A")

    def test_same_digest_in_two_registries_is_two_blobs(self, driver: StorageDriver) -> None:
        first, second = driver.registry(REGISTRY_A), driver.registry(REGISTRY_B)
        digest = store_blob(first, b"twice")
        store_blob(second, b"twice")

        assert second.delete(digest) is True

        assert first.stat(digest) == 5
        assert second.stat(digest) is None

    def test_delete_registry_removes_only_that_registry(self, driver: StorageDriver) -> None:
        first, second = driver.registry(REGISTRY_A), driver.registry(REGISTRY_B)
        gone = store_blob(first, b"in A")
        write_session(first, OTHER_UPLOAD, 0, b"pending in A")
        kept = store_blob(second, b"in B")

        driver.delete_registry(REGISTRY_A)

        fresh = driver.registry(REGISTRY_A)
        assert fresh.stat(gone) is None
        assert fresh.upload_size(OTHER_UPLOAD) is None
        assert second.stat(kept) == 4
        assert joined(second.read(kept)) == b"in B"

    def test_delete_of_an_unknown_registry_is_harmless(self, driver: StorageDriver) -> None:
        driver.delete_registry("c" * 32)
