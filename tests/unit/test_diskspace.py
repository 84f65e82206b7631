"""berth.diskspace: recognising a write that failed for lack of space, and the storage status."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from berth.diskspace import FULL_MEMORY_SECONDS, DiskSpace, out_of_space


def _full_sqlite(path: Path) -> sqlite3.Error:
    """The real error of a SQLite database that cannot grow (max_page_count stands in for a full disk)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA max_page_count = 8")
    conn.execute("CREATE TABLE t (x BLOB)")
    try:
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (?)", (b"x" * 4096,))
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("the database never filled up")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "quota_exceeded"),
        (psycopg.errors.DiskFull("could not extend file: No space left on device"), "database_full"),
    ],
)
def test_the_errors_of_a_full_disk_are_recognised(error: BaseException, reason: str) -> None:
    found = out_of_space(error)

    assert found is not None
    assert (found.reason, found.error) == (reason, error)


def test_sqlite_database_or_disk_is_full_is_recognised_directly_and_through_sqlalchemy(
    tmp_path: Path,
) -> None:
    direct = _full_sqlite(tmp_path / "direct.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'wrapped.db'}")
    with engine.connect() as conn:
        conn.execute(text("PRAGMA max_page_count = 8"))
        conn.execute(text("CREATE TABLE t (x BLOB)"))
        rows = [{"x": b"x" * 4096} for _ in range(100)]
        with pytest.raises(OperationalError) as wrapped:
            conn.execute(text("INSERT INTO t VALUES (:x)"), rows)
    engine.dispose()

    assert "database or disk is full" in str(direct)
    assert out_of_space(direct) is not None
    found = out_of_space(wrapped.value)
    assert found is not None
    assert found.reason == "database_full"


def test_full_disk_errors_are_found_inside_groups_and_chains() -> None:
    disk_full = OSError(errno.ENOSPC, "No space left on device")
    try:
        try:
            raise disk_full
        except OSError as exc:
            raise RuntimeError("writing the chunk failed") from exc
    except RuntimeError as chained:
        group = ExceptionGroup("task group", [ValueError("other"), chained])

    found = out_of_space(group)

    assert found is not None
    assert found.error is disk_full


@pytest.mark.parametrize(
    "error",
    [OSError(errno.EACCES, "Permission denied"), ValueError("no"), sqlite3.OperationalError("locked")],
)
def test_other_errors_are_not_taken_for_a_full_disk(error: BaseException) -> None:
    assert out_of_space(error) is None


def test_status_is_ok_low_or_full(tmp_path: Path) -> None:
    now = [1000.0]
    roomy = DiskSpace([tmp_path / "storage" / "not-yet-created"], low_free_bytes=0, clock=lambda: now[0])
    tight = DiskSpace([tmp_path], low_free_bytes=2**62, clock=lambda: now[0])

    assert (roomy.status(), tight.status()) == ("ok", "low")
    roomy.record_full()
    tight.record_full()
    assert (roomy.status(), tight.status()) == ("ok", "full")  # full only while space is still low
    now[0] += FULL_MEMORY_SECONDS
    assert tight.status() == "low"
    assert [v.path for v in tight.volumes()] == [tmp_path]
