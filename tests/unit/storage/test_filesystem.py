"""The filesystem driver: the shared driver suite, plus what is particular to files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from berth.storage import FilesystemDriver, StorageDriver
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
