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
- a session is a set of parts, each written by one writer that creates it; ``read_parts``
  and ``commit_upload`` take the parts the caller names, in that order, and ignore the rest
  (a chunk that was refused or failed half-way leaves a part nobody names);
- nothing written to a session is visible as a blob before ``commit_upload``, which puts the
  named parts under the digest in one step, replacing a blob stored there, and keeps the
  parts until ``delete_upload``; committing no parts makes the empty blob;
- ``delete_upload`` and ``delete_part`` succeed whether or not the session or part exists;
- the stores of two registries share nothing: blobs, sessions and deletion are per registry.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from berth.storage import BlobStore, StorageDriver

REGISTRY_A = "a" * 32
REGISTRY_B = "b" * 32
UPLOAD = "5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"
OTHER_UPLOAD = "0b6d1c9a-8e47-4f35-b2c1-7a9e5d3f4c28"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_part(store: BlobStore, upload_id: str, part: str, *chunks: bytes) -> None:
    writer = store.part_writer(upload_id, part)
    try:
        for chunk in chunks:
            writer.write(chunk)
    finally:
        writer.close()


def store_blob(store: BlobStore, data: bytes, upload_id: str = UPLOAD) -> str:
    digest = digest_of(data)
    write_part(store, upload_id, "p0", data)
    store.commit_upload(upload_id, ["p0"], digest)
    return digest


def assert_downloads(url: str | None, data: bytes) -> str:
    """``url`` (a driver's redirect URL) serves ``data`` to a client without credentials, and a
    byte range of it; returns the URL for further checks."""
    assert url is not None
    with httpx.Client(trust_env=False, timeout=30) as http:
        assert http.get(url).content == data
        assert http.get(url, headers={"Range": "bytes=2-5"}).content == data[2:6]
    return url


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
        writer = store.part_writer(UPLOAD, "p0")
        for start in range(0, len(data), 65536):
            writer.write(data[start : start + 65536])
        writer.close()
        store.commit_upload(UPLOAD, ["p0"], digest)

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
        write_part(store, UPLOAD, "p0", data)
        store.commit_upload(UPLOAD, ["p0"], digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data
        assert store.stat(digest_of(data)) is None

    # --- upload sessions --------------------------------------------------------------------

    def test_unknown_session(self, store: BlobStore) -> None:
        assert store.part_sizes(UPLOAD) == {}
        with pytest.raises(FileNotFoundError):
            joined(store.read_parts(UPLOAD, ["p0"]))
        assert list(store.upload_ids()) == []

    def test_parts_are_read_in_the_order_named(self, store: BlobStore) -> None:
        write_part(store, UPLOAD, "b", b" world")
        write_part(store, UPLOAD, "a", b"hello")

        assert store.part_sizes(UPLOAD) == {"a": 5, "b": 6}
        assert joined(store.read_parts(UPLOAD, ["a", "b"])) == b"hello world"
        assert joined(store.read_parts(UPLOAD, ["b"])) == b" world"
        assert joined(store.read_parts(UPLOAD, [])) == b""

    def test_a_part_is_never_shared(self, store: BlobStore) -> None:
        """Each request writes a part it creates: opening an existing part is an error."""
        write_part(store, UPLOAD, "p0", b"first")

        with pytest.raises(FileExistsError):
            store.part_writer(UPLOAD, "p0")
        assert joined(store.read_parts(UPLOAD, ["p0"])) == b"first"

    def test_a_missing_part_is_an_error(self, store: BlobStore) -> None:
        write_part(store, UPLOAD, "a", b"here")

        with pytest.raises(FileNotFoundError):
            joined(store.read_parts(UPLOAD, ["a", "gone"]))
        with pytest.raises(FileNotFoundError):
            store.commit_upload(UPLOAD, ["a", "gone"], digest_of(b"here"))
        assert store.stat(digest_of(b"here")) is None

    def test_delete_part_drops_only_that_part(self, store: BlobStore) -> None:
        write_part(store, UPLOAD, "kept", b"kept")
        write_part(store, UPLOAD, "refused", b"refused")

        store.delete_part(UPLOAD, "refused")
        store.delete_part(UPLOAD, "refused")
        store.delete_part(OTHER_UPLOAD, "never")

        assert store.part_sizes(UPLOAD) == {"kept": 4}

    def test_sessions_are_independent(self, store: BlobStore) -> None:
        write_part(store, UPLOAD, "p", b"one")
        write_part(store, OTHER_UPLOAD, "p", b"two!")

        assert joined(store.read_parts(UPLOAD, ["p"])) == b"one"
        assert joined(store.read_parts(OTHER_UPLOAD, ["p"])) == b"two!"
        assert sorted(upload for upload, _ in store.upload_ids()) == sorted([UPLOAD, OTHER_UPLOAD])

    def test_closed_parts_are_readable_by_a_new_store_object(self, driver: StorageDriver) -> None:
        """After close the bytes are durable: another handle (or process) sees them."""
        write_part(driver.registry(REGISTRY_A), UPLOAD, "p", b"durable")

        again = driver.registry(REGISTRY_A)

        assert again.part_sizes(UPLOAD) == {"p": 7}
        assert joined(again.read_parts(UPLOAD, ["p"])) == b"durable"

    # --- commit -----------------------------------------------------------------------------

    def test_nothing_is_visible_before_commit(self, store: BlobStore) -> None:
        data = b"not yet a blob"
        digest = digest_of(data)
        writer = store.part_writer(UPLOAD, "p")
        writer.write(data[:5])

        assert store.stat(digest) is None  # while the writer is open
        writer.write(data[5:])
        writer.close()
        assert store.stat(digest) is None  # written and closed, still not committed
        assert store.local_path(digest) is None
        with pytest.raises(FileNotFoundError):
            joined(store.read(digest))

        store.commit_upload(UPLOAD, ["p"], digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data

    def test_commit_concatenates_the_named_parts_only(self, store: BlobStore) -> None:
        data = bytes(range(256)) * 4096 * 3  # 3 MiB over three parts
        third = len(data) // 3
        write_part(store, UPLOAD, "p1", data[:third])
        write_part(store, UPLOAD, "stray", b"a chunk the session refused")
        write_part(store, UPLOAD, "p2", data[third : 2 * third])
        write_part(store, UPLOAD, "p3", data[2 * third :])
        digest = digest_of(data)

        store.commit_upload(UPLOAD, ["p1", "p2", "p3"], digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data

    def test_commit_keeps_the_parts_until_the_session_is_deleted(self, store: BlobStore) -> None:
        """A crash between commit and the metadata update must find the session whole."""
        digest = store_blob(store, b"committed")

        assert joined(store.read_parts(UPLOAD, ["p0"])) == b"committed"
        store.delete_upload(UPLOAD)
        assert store.part_sizes(UPLOAD) == {}
        assert joined(store.read(digest)) == b"committed"

    def test_commit_of_no_parts_makes_the_empty_blob(self, store: BlobStore) -> None:
        digest = digest_of(b"")

        store.commit_upload(UPLOAD, [], digest)

        assert store.stat(digest) == 0
        assert joined(store.read(digest)) == b""

    def test_commit_over_an_existing_blob_replaces_its_bytes(self, store: BlobStore) -> None:
        """The new bytes were just verified against the digest: they heal a damaged copy."""
        data = b"same content twice"
        digest = digest_of(data)
        write_part(store, UPLOAD, "bad", b"damaged bytes under the digest")
        store.commit_upload(UPLOAD, ["bad"], digest)
        write_part(store, OTHER_UPLOAD, "good", data)

        store.commit_upload(OTHER_UPLOAD, ["good"], digest)

        assert store.stat(digest) == len(data)
        assert joined(store.read(digest)) == data

    def test_readers_see_the_old_or_the_new_never_a_mix(self, store: BlobStore) -> None:
        """Commit is atomic for a concurrent reader of the digest: absent, then whole."""
        data = bytes(range(256)) * 8192  # 2 MiB
        digest = digest_of(data)
        write_part(store, UPLOAD, "a", data[:1000])
        write_part(store, UPLOAD, "b", data[1000:])
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
            store.commit_upload(UPLOAD, ["a", "b"], digest)
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
        write_part(store, UPLOAD, "p", b"abandoned")

        store.delete_upload(UPLOAD)

        assert store.part_sizes(UPLOAD) == {}
        assert list(store.upload_ids()) == []

    def test_delete_upload_is_idempotent(self, store: BlobStore) -> None:
        store.delete_upload(UPLOAD)
        write_part(store, UPLOAD, "p", b"x")
        store.delete_upload(UPLOAD)
        store.delete_upload(UPLOAD)

        assert store.part_sizes(UPLOAD) == {}

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
        write_part(first, UPLOAD, "p", b"session of A")

        assert second.part_sizes(UPLOAD) == {}
        second.delete_upload(UPLOAD)
        assert first.part_sizes(UPLOAD) == {"p": len(b"session of A")}

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
        write_part(first, OTHER_UPLOAD, "p", b"pending in A")
        kept = store_blob(second, b"in B")

        driver.delete_registry(REGISTRY_A)

        fresh = driver.registry(REGISTRY_A)
        assert fresh.stat(gone) is None
        assert fresh.part_sizes(OTHER_UPLOAD) == {}
        assert list(driver.registry_ids()) == [REGISTRY_B]
        assert second.stat(kept) == 4
        assert joined(second.read(kept)) == b"in B"

    def test_delete_of_an_unknown_registry_is_harmless(self, driver: StorageDriver) -> None:
        driver.delete_registry("c" * 32)
