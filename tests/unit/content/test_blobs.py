"""``BlobService.open_file``: which blob GETs may be sent from a local file (zero-copy), and
that the file is opened before the answer starts, so a blob gone by then is ``BLOB_UNKNOWN``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import anyio
import pytest

from berth import errors
from berth.content.blobs import VERIFY_ON_READ, BlobInfo, BlobService
from berth.errors import WireError
from berth.metadata.database import Database
from berth.storage import BlobStore
from berth.storage.filesystem import FilesystemBlobStore
from tests.unit.storage.driver_suite import store_blob

LARGE = VERIFY_ON_READ + 1


class NoLocalFiles(FilesystemBlobStore):
    """A store without local files, as the object-store drivers are."""

    def local_path(self, digest: str) -> Path | None:
        return None


class GoneAfterLookup(FilesystemBlobStore):
    """The blob is deleted between ``local_path`` and the open (a racing GC)."""

    def local_path(self, digest: str) -> Path | None:
        path = super().local_path(digest)
        self.delete(digest)
        return path


def service(store: BlobStore) -> BlobService:
    return BlobService("registry-1", cast(Database, None), store)  # open_file reads no metadata


def test_a_large_blob_or_a_range_is_opened_as_its_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    data = os.urandom(LARGE)
    info = BlobInfo(store_blob(store, data), LARGE)

    for offset, length in ((0, LARGE), (10, 20)):
        opened = anyio.run(service(store).open_file, info, offset, length)
        assert opened is not None
        with opened.file:
            assert (opened.offset, opened.length) == (offset, length)
            assert opened.file.read() == data


def test_a_small_blob_read_whole_is_not_opened_it_is_verified_on_read(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    info = BlobInfo(store_blob(store, b"small"), 5)
    assert anyio.run(service(store).open_file, info, 0, 5) is None
    opened = anyio.run(service(store).open_file, info, 1, 2)  # a range is never verified
    assert opened is not None
    opened.file.close()


def test_a_store_without_local_files_streams(tmp_path: Path) -> None:
    store = NoLocalFiles(tmp_path)
    info = BlobInfo(store_blob(store, os.urandom(LARGE)), LARGE)
    assert anyio.run(service(store).open_file, info, 0, LARGE) is None


def test_a_blob_already_gone_is_left_to_the_stream_which_answers_blob_unknown(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    digest = store_blob(store, os.urandom(LARGE))
    store.delete(digest)
    assert anyio.run(service(store).open_file, BlobInfo(digest, LARGE), 0, LARGE) is None


def test_a_blob_deleted_between_lookup_and_open_is_blob_unknown(tmp_path: Path) -> None:
    store = GoneAfterLookup(tmp_path)
    digest = store_blob(store, os.urandom(LARGE))
    with pytest.raises(WireError) as raised:
        anyio.run(service(store).open_file, BlobInfo(digest, LARGE), 0, LARGE)
    assert raised.value.error is errors.BLOB_UNKNOWN
