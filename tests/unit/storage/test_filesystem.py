"""The filesystem driver: the shared driver suite, plus what is particular to files."""

from __future__ import annotations

import errno
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from berth.storage import FilesystemDriver, StorageDriver, trash
from tests.unit.storage.driver_suite import (
    REGISTRY_A,
    REGISTRY_B,
    UPLOAD,
    DriverSuite,
    digest_of,
    store_blob,
    write_part,
)


class TestFilesystemDriver(DriverSuite):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> StorageDriver:
        return FilesystemDriver(tmp_path / "storage")


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_layout_is_one_folder_per_registry(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    digest = store_blob(driver.registry(REGISTRY_A), b"laid out")
    driver.registry(REGISTRY_A).delete_upload(UPLOAD)
    write_part(driver.registry(REGISTRY_B), UPLOAD, "p0", b"pending")
    hex_digest = digest.split(":", 1)[1]

    assert files(tmp_path) == [
        f"registries/{REGISTRY_A}/blobs/sha256/{hex_digest[:2]}/{hex_digest}",
        f"registries/{REGISTRY_B}/uploads/{UPLOAD}/p0",
    ]


def test_commit_of_one_part_links_it_into_place(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    store = driver.registry(REGISTRY_A)
    write_part(store, UPLOAD, "p0", b"linked, not copied")
    part_inode = os.stat(tmp_path / "registries" / REGISTRY_A / "uploads" / UPLOAD / "p0").st_ino
    digest = digest_of(b"linked, not copied")

    store.commit_upload(UPLOAD, ["p0"], digest)
    store.delete_upload(UPLOAD)

    path = store.local_path(digest)
    assert path is not None
    assert os.stat(path).st_ino == part_inode
    assert files(tmp_path / "registries" / REGISTRY_A / "uploads") == []
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_session_file_of_an_older_berth_is_listed_and_deleted(tmp_path: Path) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)
    old = tmp_path / "registries" / REGISTRY_A / "uploads" / UPLOAD
    old.parent.mkdir(parents=True)
    old.write_bytes(b"one file per session")

    assert [upload for upload, _ in store.upload_ids()] == [UPLOAD]
    assert store.part_sizes(UPLOAD) == {}
    store.delete_upload(UPLOAD)
    assert not old.exists()


def test_local_path_is_the_blob_file(tmp_path: Path) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)
    digest = store_blob(store, b"zero copy")

    path = store.local_path(digest)

    assert path is not None
    assert path.is_file()
    assert path.is_relative_to(tmp_path / "registries" / REGISTRY_A / "blobs")


@pytest.mark.parametrize(
    "digest", ["sha256:../../x", "../sha256:abc", "sha256:a/b", "sha256:", ":abc", "sha256:a\0b"]
)
def test_digests_that_would_escape_the_store_are_refused(tmp_path: Path, digest: str) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)

    with pytest.raises(ValueError, match="unsafe storage key"):
        store.stat(digest)
    with pytest.raises(ValueError, match="unsafe storage key"):
        store.commit_upload(UPLOAD, [], digest)


@pytest.mark.parametrize("upload_id", ["..", ".", "", "a/b", "..\\x"])
def test_upload_ids_that_would_escape_the_store_are_refused(tmp_path: Path, upload_id: str) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)

    with pytest.raises(ValueError, match="unsafe storage key"):
        store.part_writer(upload_id, "p0")
    with pytest.raises(ValueError, match="unsafe storage key"):
        store.part_writer(UPLOAD, upload_id)
    with pytest.raises(ValueError, match="unsafe storage key"):
        store.delete_upload(upload_id)


@pytest.mark.parametrize("registry_id", ["..", "", "a/b"])
def test_registry_ids_that_would_escape_the_root_are_refused(tmp_path: Path, registry_id: str) -> None:
    driver = FilesystemDriver(tmp_path)

    with pytest.raises(ValueError, match="unsafe storage key"):
        driver.registry(registry_id)
    with pytest.raises(ValueError, match="unsafe storage key"):
        driver.delete_registry(registry_id)


def test_session_files_are_private(tmp_path: Path) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)
    write_part(store, UPLOAD, "p0", b"secret layer")

    mode = (tmp_path / "registries" / REGISTRY_A / "uploads" / UPLOAD / "p0").stat().st_mode & 0o777

    assert mode == 0o600


def test_a_folder_has_no_redirect_url(tmp_path: Path) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)

    assert store.redirect_url(store_blob(store, b"served by berth"), 60) is None


# --- writes past the page cache, a blob stored twice, large sessions removed later ----------

MIB = 1024 * 1024


@pytest.fixture
def on_disk() -> Iterator[Path]:
    """A folder on a file system with O_DIRECT (``/tmp`` may be a tmpfs, which refuses it)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
        yield Path(folder)


def _aligned(data: bytes) -> mmap.mmap:
    buffer = mmap.mmap(-1, len(data))  # page-aligned, as the direct upload's buffers are
    buffer[:] = data
    return buffer


def test_aligned_and_unaligned_writes_make_one_exact_part(on_disk: Path) -> None:
    store = FilesystemDriver(on_disk).registry(REGISTRY_A)
    blocks = [os.urandom(MIB), os.urandom(MIB), b"an unaligned tail", os.urandom(MIB)]
    writer = store.part_writer(UPLOAD, "p0", whole=True)
    direct_fd = writer._direct
    assert direct_fd is not None, "/var/tmp should accept O_DIRECT on this machine"
    try:
        with mock.patch("os.pwrite", wraps=os.pwrite) as pwrite:
            writer.write(memoryview(_aligned(blocks[0])))  # direct
            writer.write(memoryview(_aligned(blocks[1]))[: MIB // 2])  # direct (whole pages)
            writer.write(memoryview(_aligned(blocks[1]))[MIB // 2 :])  # direct
            writer.write(blocks[2])  # read-only bytes: buffered
            writer.write(memoryview(_aligned(blocks[3])))  # an unaligned offset now: buffered
    finally:
        writer.close()

    descriptors = [call.args[0] for call in pwrite.call_args_list]
    assert descriptors[:3] == [direct_fd] * 3
    assert direct_fd not in descriptors[3:]
    part = on_disk / "registries" / REGISTRY_A / "uploads" / UPLOAD / "p0"
    assert part.read_bytes() == b"".join(blocks)
    digest = digest_of(b"".join(blocks))
    store.commit_upload(UPLOAD, ["p0"], digest)
    assert b"".join(store.read(digest)) == b"".join(blocks)


def test_a_part_to_be_copied_into_a_blob_is_written_through_the_page_cache(on_disk: Path) -> None:
    store = FilesystemDriver(on_disk).registry(REGISTRY_A)
    data = os.urandom(2 * MIB)
    writer = store.part_writer(UPLOAD, "p0")  # a chunk of a chunked upload: copied at commit
    try:
        assert writer._direct is None
        writer.write(memoryview(_aligned(data)))
    finally:
        writer.close()

    assert (on_disk / "registries" / REGISTRY_A / "uploads" / UPLOAD / "p0").read_bytes() == data


def test_a_file_system_that_refuses_o_direct_gets_buffered_writes(on_disk: Path) -> None:
    store = FilesystemDriver(on_disk).registry(REGISTRY_A)
    data = os.urandom(2 * MIB)
    real_open, real_pwrite = os.open, os.pwrite

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_DIRECT:  # as a tmpfs answers
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    with mock.patch("os.open", side_effect=refusing_open):
        writer = store.part_writer(UPLOAD, "p0", whole=True)
    assert writer._direct is None
    writer.write(memoryview(_aligned(data)))
    writer.close()

    # One that opens it but refuses the writes: buffered from the first refusal on.
    writer = store.part_writer(UPLOAD, "p1", whole=True)
    direct_fd = writer._direct
    assert direct_fd is not None

    def refusing_pwrite(fd: int, view: Any, offset: int) -> int:
        if fd == direct_fd:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, view, offset)

    with mock.patch("os.pwrite", side_effect=refusing_pwrite):
        writer.write(memoryview(_aligned(data)))
        assert writer._direct is None
    writer.close()

    for part in ("p0", "p1"):
        assert (on_disk / "registries" / REGISTRY_A / "uploads" / UPLOAD / part).read_bytes() == data


def test_a_write_after_close_is_refused(tmp_path: Path) -> None:
    writer = FilesystemDriver(tmp_path).registry(REGISTRY_A).part_writer(UPLOAD, "p0")
    writer.close()

    with pytest.raises(ValueError, match="closed part"):
        writer.write(b"late")


def test_a_blob_stored_again_replaces_the_old_copy(tmp_path: Path) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)
    digest = store_blob(store, b"pushed twice")
    path = store.local_path(digest)
    assert path is not None
    first_inode = path.stat().st_ino
    store.delete_upload(UPLOAD)

    write_part(store, "second", "p0", b"pushed twice")
    store.commit_upload("second", ["p0"], digest)

    assert path.stat().st_ino != first_inode  # a damaged copy is healed by the next push
    assert b"".join(store.read(digest)) == b"pushed twice"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # nothing staged is left


def test_a_large_replaced_copy_is_freed_after_the_commit(on_disk: Path) -> None:
    store = FilesystemDriver(on_disk).registry(REGISTRY_A)
    data = os.urandom(64 * MIB)
    digest = store_blob(store, data)
    store.delete_upload(UPLOAD)
    write_part(store, "second", "p0", data)

    with mock.patch.object(trash, "close_later", wraps=trash.close_later) as close_later:
        store.commit_upload("second", ["p0"], digest)

    assert close_later.call_count == 1  # the old copy's descriptor, closed by the trash thread
    trash.wait_until_empty()
    assert b"".join(store.read(digest)) == data


def test_a_large_session_is_moved_aside_and_removed_after(on_disk: Path) -> None:
    store = FilesystemDriver(on_disk).registry(REGISTRY_A)
    write_part(store, UPLOAD, "p0", os.urandom(64 * MIB))
    write_part(store, UPLOAD, "p1", b"and a small part")

    store.delete_upload(UPLOAD)

    assert store.part_sizes(UPLOAD) == {}  # gone from the session at once
    assert [upload for upload, _ in store.upload_ids()] == []
    trash.wait_until_empty()
    assert list((on_disk / "registries" / REGISTRY_A / "trash").iterdir()) == []


def test_what_a_crash_left_in_the_trash_is_removed_at_the_next_start(tmp_path: Path) -> None:
    left = tmp_path / "registries" / REGISTRY_A / "trash" / "0123abcd"
    left.mkdir(parents=True)
    (left / "p0").write_bytes(b"left by a crash")

    FilesystemDriver(tmp_path)
    trash.wait_until_empty()

    assert not left.exists()
