"""The spine: chunks of a chunked upload appended to one file, linked into place at commit.

What is checked here is what makes it as safe as a file per request: a request appends only
alone, only at the end that its offset names, never over a part recorded in the spine; a
refused part is cut off again; a committed spine takes no more appends; and whatever cannot
be appended is written apart and concatenated correctly.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from berth.storage import FilesystemDriver
from berth.storage.filesystem import FilesystemBlobStore
from berth.storage.part_files import FilePartWriter
from berth.storage.spine import SPINE, SpineAppender, marker_of
from tests.unit.storage.driver_suite import REGISTRY_A, UPLOAD, digest_of

MIB = 1024 * 1024


@pytest.fixture
def root() -> Iterator[Path]:
    """A folder on a file system with O_DIRECT (``/tmp`` may be a tmpfs, which refuses it)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as folder:
        yield Path(folder)


@pytest.fixture
def store(root: Path) -> FilesystemBlobStore:
    return FilesystemDriver(root).registry(REGISTRY_A)


def session(root: Path) -> Path:
    return root / "registries" / REGISTRY_A / "uploads" / UPLOAD


def append(store: FilesystemBlobStore, part: str, start: int, data: bytes) -> None:
    writer = store.part_writer(UPLOAD, part, start=start)
    try:
        writer.write(data)
    finally:
        writer.close()


def aligned(data: bytes) -> memoryview:
    buffer = mmap.mmap(-1, len(data))  # page-aligned, as the direct upload's buffers are
    buffer[:] = data
    return memoryview(buffer)


def test_chunks_are_appended_to_the_spine_and_the_spine_is_linked_into_place(
    store: FilesystemBlobStore, root: Path
) -> None:
    chunks = [os.urandom(MIB), os.urandom(MIB), b"an unaligned last chunk"]
    start = 0
    for index, chunk in enumerate(chunks):
        writer = store.part_writer(UPLOAD, f"p{index}", start=start)
        assert isinstance(writer, SpineAppender)
        writer.write(aligned(chunk) if len(chunk) == MIB else chunk)
        writer.close()
        start += len(chunk)
    spine = session(root) / SPINE

    assert spine.read_bytes() == b"".join(chunks)
    assert store.part_sizes(UPLOAD) == {f"p{i}": len(chunk) for i, chunk in enumerate(chunks)}
    assert b"".join(store.read_parts(UPLOAD, ["p1", "p2"])) == chunks[1] + chunks[2]

    digest = digest_of(b"".join(chunks))
    store.commit_upload(UPLOAD, ["p0", "p1", "p2"], digest)

    blob = store.local_path(digest)
    assert blob is not None
    assert blob.stat().st_ino == spine.stat().st_ino  # linked, not copied
    assert blob.read_bytes() == b"".join(chunks)
    # A committed spine takes no more appends: a late chunk is a file of its own.
    late = store.part_writer(UPLOAD, "late", start=start)
    assert isinstance(late, FilePartWriter)
    late.write(b"late")
    late.close()
    assert blob.read_bytes() == b"".join(chunks)


def test_a_chunk_racing_one_that_appends_is_written_apart(store: FilesystemBlobStore) -> None:
    first = store.part_writer(UPLOAD, "first", start=0)
    assert isinstance(first, SpineAppender)
    second = store.part_writer(UPLOAD, "second", start=0)  # the lock is held
    assert isinstance(second, FilePartWriter)
    first.write(b"A" * 100)
    second.write(b"B" * 100)
    first.close()
    second.close()

    assert store.part_sizes(UPLOAD) == {"first": 100, "second": 100}
    assert b"".join(store.read_parts(UPLOAD, ["first"])) == b"A" * 100
    assert b"".join(store.read_parts(UPLOAD, ["second"])) == b"B" * 100


def test_the_lock_holds_between_processes(store: FilesystemBlobStore, root: Path) -> None:
    code = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"
    )
    session(root).mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(session(root) / SPINE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        assert isinstance(store.part_writer(UPLOAD, "p0", start=0), FilePartWriter)
    finally:
        holder.communicate("")
    writer = store.part_writer(UPLOAD, "p1", start=0)  # the holder is gone, and so is its lock
    assert isinstance(writer, SpineAppender)
    writer.close()


def test_a_stale_offset_is_written_apart(store: FilesystemBlobStore) -> None:
    append(store, "p0", 0, b"accepted bytes")

    # A request that read the session before p0 was accepted: never over p0's bytes.
    stale = store.part_writer(UPLOAD, "stale", start=0)
    assert isinstance(stale, FilePartWriter)
    stale.close()
    ahead = store.part_writer(UPLOAD, "ahead", start=1000)
    assert isinstance(ahead, FilePartWriter)
    ahead.close()
    assert b"".join(store.read_parts(UPLOAD, ["p0"])) == b"accepted bytes"


def test_a_refused_part_is_cut_off_and_the_next_appends_in_its_place(
    store: FilesystemBlobStore, root: Path
) -> None:
    append(store, "p0", 0, b"kept")
    append(store, "refused", 4, b"lost the race")

    store.delete_part(UPLOAD, "refused")

    assert (session(root) / SPINE).read_bytes() == b"kept"
    assert store.part_sizes(UPLOAD) == {"p0": 4}
    append(store, "p1", 4, b" and more")
    assert isinstance(store.part_writer(UPLOAD, "probe", start=13), SpineAppender)
    assert b"".join(store.read_parts(UPLOAD, ["p0", "p1"])) == b"kept and more"


def test_a_part_is_not_cut_off_while_another_request_appends(store: FilesystemBlobStore, root: Path) -> None:
    append(store, "refused", 0, b"refused bytes")
    # Another request read the session when these bytes were there: it may not append, so
    # nobody holds the lock; hold it here as an appender would.
    holder = os.open(session(root) / SPINE, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        store.delete_part(UPLOAD, "refused")
        assert (session(root) / SPINE).read_bytes() == b"refused bytes"  # not cut under a writer
    finally:
        os.close(holder)
    assert store.part_sizes(UPLOAD) == {}
    # The leftover end is not a part: no request appends after it (its offset would be 0).
    assert isinstance(store.part_writer(UPLOAD, "p0", start=0), FilePartWriter)


def test_parts_in_the_spine_and_apart_are_concatenated(store: FilesystemBlobStore) -> None:
    append(store, "p0", 0, b"spine one, ")
    loser = store.part_writer(UPLOAD, "loser", start=11)  # takes the lock first
    apart = store.part_writer(UPLOAD, "apart", start=11)
    assert isinstance(loser, SpineAppender)
    assert isinstance(apart, FilePartWriter)
    loser.write(b"XXXXXXXXXXX")
    loser.close()
    apart.write(b"apart two, ")
    apart.close()
    # The session accepted the part written apart; before the loser's part is removed, the
    # next chunk finds the spine's end at its offset (22) and appends after the loser's bytes.
    append(store, "p2", 22, b"spine three")
    store.delete_part(UPLOAD, "loser")

    data = b"spine one, apart two, spine three"
    assert b"".join(store.read_parts(UPLOAD, ["p0", "apart", "p2"])) == data
    store.commit_upload(UPLOAD, ["p0", "apart", "p2"], digest_of(data))
    blob = store.local_path(digest_of(data))
    assert blob is not None
    assert blob.read_bytes() == data
    assert store.part_sizes(UPLOAD) == {"p0": 11, "apart": 11, "p2": 11}


def test_after_a_part_written_apart_the_next_chunks_are_written_apart(store: FilesystemBlobStore) -> None:
    append(store, "p0", 0, b"0123")
    holder = store.part_writer(UPLOAD, "holder", start=4)
    apart = store.part_writer(UPLOAD, "apart", start=4)
    holder.close()  # wrote nothing
    apart.write(b"45678")
    apart.close()

    assert isinstance(store.part_writer(UPLOAD, "p2", start=9), FilePartWriter)  # the spine ends at 4


def test_a_spine_shorter_than_its_markers_is_a_lost_part(store: FilesystemBlobStore, root: Path) -> None:
    append(store, "p0", 0, b"0123456789")
    os.truncate(session(root) / SPINE, 5)  # as a crash before the bytes reached the disk

    assert store.part_sizes(UPLOAD) == {}
    with pytest.raises(FileNotFoundError):
        list(store.read_parts(UPLOAD, ["p0"]))
    with pytest.raises(FileNotFoundError):
        store.commit_upload(UPLOAD, ["p0"], digest_of(b"0123456789"))
    assert isinstance(store.part_writer(UPLOAD, "p1", start=5), FilePartWriter)  # p0 reaches past 5


def test_commit_copies_when_a_request_appends_meanwhile(store: FilesystemBlobStore) -> None:
    append(store, "p0", 0, b"accepted")
    late = store.part_writer(UPLOAD, "late", start=8)
    assert isinstance(late, SpineAppender)
    late.write(b"written while the blob is committed")
    digest = digest_of(b"accepted")

    store.commit_upload(UPLOAD, ["p0"], digest)
    late.write(b" and after")
    late.close()

    blob = store.local_path(digest)
    assert blob is not None
    assert blob.read_bytes() == b"accepted"


def test_part_names_that_look_like_markers_are_written_apart(store: FilesystemBlobStore) -> None:
    assert isinstance(store.part_writer(UPLOAD, "p@0+4", start=0), FilePartWriter)
    assert marker_of("p@0+4") is not None
    assert marker_of("p0") is None
    assert marker_of("p@x+1") is None
    assert marker_of("@0+1") is None


def test_a_monolithic_part_is_a_file_of_its_own(store: FilesystemBlobStore, root: Path) -> None:
    writer = store.part_writer(UPLOAD, "p0", whole=True, start=0)
    assert isinstance(writer, FilePartWriter)
    writer.close()
    assert not (session(root) / SPINE).exists()


def test_requests_of_one_process_exclude_each_other_where_flock_would_not(
    store: FilesystemBlobStore,
) -> None:
    """On NFS a process holds an emulated flock once for all its descriptors: as if it never
    refused this process. Requests in one process still never append at once."""
    with mock.patch("fcntl.flock"):
        first = store.part_writer(UPLOAD, "first", start=0)
        second = store.part_writer(UPLOAD, "second", start=0)
        assert isinstance(first, SpineAppender)
        assert isinstance(second, FilePartWriter)
        first.write(b"accepted")
        first.close()
        second.close()
        late = store.part_writer(UPLOAD, "late", start=8)
        assert isinstance(late, SpineAppender)
        late.write(b" and late")
        store.commit_upload(UPLOAD, ["first"], digest_of(b"accepted"))  # copies: late appends
        late.close()

    blob = store.local_path(digest_of(b"accepted"))
    assert blob is not None
    assert blob.read_bytes() == b"accepted"
    after = store.part_writer(UPLOAD, "next", start=17)
    assert isinstance(after, SpineAppender)  # the claim was released
    after.close()
