"""berth.content.janitor: abandoned upload sessions and stray session bytes are removed (finding 13)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, update

from berth.content.janitor import STRAY_GRACE_SECONDS, UploadJanitor
from berth.metadata import blobs as blob_rows
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.metadata.schema import uploads
from berth.storage import FilesystemDriver

WEEK = 7 * 86400.0
OLD = "5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"
FRESH = "0b6d1c9a-8e47-4f35-b2c1-7a9e5d3f4c28"
STRAY = "9d2c6f0e-1b3a-4c5d-8e7f-a0b1c2d3e4f5"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


def write(driver: FilesystemDriver, registry_id: str, upload_id: str, data: bytes) -> None:
    writer = driver.registry(registry_id).part_writer(upload_id, "p0")
    writer.write(data)
    writer.close()


def test_abandoned_and_stray_sessions_are_removed_and_reported(db: Database, tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = db.write_sync(registry_rows.create, "Janitor")
    for upload_id in (OLD, FRESH):
        db.write_sync(blob_rows.create_upload, upload_id, registry.id, "team/app")
        write(driver, registry.id, upload_id, b"12345")
        db.write_sync(blob_rows.accept_part, upload_id, 0, "p0", 5)
    write(driver, registry.id, STRAY, b"123")
    store = driver.registry(registry.id)
    long_ago = time.time() - STRAY_GRACE_SECONDS - 60
    os.utime(tmp_path / "registries" / registry.id / "uploads" / STRAY, (long_ago, long_ago))
    janitor = UploadJanitor(db, driver, WEEK)
    # OLD was last changed more than a week before "now"; FRESH a moment ago.
    later = time.time() + WEEK - 60

    def touch_fresh(conn: Connection) -> None:
        conn.execute(update(uploads).where(uploads.c.id == FRESH).values(updated_at=later))

    db.write_sync(touch_fresh)

    report = janitor.purge(now=later + 120)

    assert (report.sessions, report.stray, report.bytes) == (1, 1, 8)
    assert db.read_sync(blob_rows.get_upload, OLD) is None
    assert db.read_sync(blob_rows.get_upload, FRESH) is not None
    assert store.part_sizes(OLD) == {}
    assert store.part_sizes(STRAY) == {}
    assert store.part_sizes(FRESH) == {"p0": 5}
    assert str(report) == "removed 1 abandoned upload session(s) and 1 stray one(s), 8 bytes"


def test_a_young_stray_folder_is_left_to_the_request_writing_it(db: Database, tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    registry = db.write_sync(registry_rows.create, "Janitor")
    write(driver, registry.id, STRAY, b"being written")

    report = UploadJanitor(db, driver, WEEK).purge()

    assert (report.sessions, report.stray) == (0, 0)
    assert driver.registry(registry.id).part_sizes(STRAY) == {"p0": 13}
