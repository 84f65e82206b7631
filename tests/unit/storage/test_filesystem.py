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
    write_session,
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
    write_session(driver.registry(REGISTRY_B), UPLOAD, 0, b"pending")
    hex_digest = digest.split(":", 1)[1]

    assert files(tmp_path) == [
        f"registries/{REGISTRY_A}/blobs/sha256/{hex_digest[:2]}/{hex_digest}",
        f"registries/{REGISTRY_B}/uploads/{UPLOAD}",
    ]


def test_commit_renames_the_session_file_into_place(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    store = driver.registry(REGISTRY_A)
    write_session(store, UPLOAD, 0, b"renamed, not copied")
    session_inode = os.stat(tmp_path / "registries" / REGISTRY_A / "uploads" / UPLOAD).st_ino
    digest = digest_of(b"renamed, not copied")

    store.commit_upload(UPLOAD, digest)

    path = store.local_path(digest)
    assert path is not None
    assert os.stat(path).st_ino == session_inode
    assert files(tmp_path / "registries" / REGISTRY_A / "uploads") == []


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
        store.commit_upload(UPLOAD, digest)


@pytest.mark.parametrize("upload_id", ["..", ".", "", "a/b", "..\\x"])
def test_upload_ids_that_would_escape_the_store_are_refused(tmp_path: Path, upload_id: str) -> None:
    store = FilesystemDriver(tmp_path).registry(REGISTRY_A)

    with pytest.raises(ValueError, match="unsafe storage key"):
        store.upload_writer(upload_id, 0)
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
    write_session(store, UPLOAD, 0, b"secret layer")

    mode = (tmp_path / "registries" / REGISTRY_A / "uploads" / UPLOAD).stat().st_mode & 0o777

    assert mode == 0o600
