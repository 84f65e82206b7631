"""berth.content.direct_upload: a body read by a worker thread, written and hashed by two more.

The body is a fake of the server's ``DirectBody`` (its ``readinto`` hands out the bytes in
uneven reads, as a socket does); the writer records what it is given.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading

import pytest

from berth.content import direct_upload
from berth.content.direct_upload import BUFFER_SIZE
from berth.direct_bodies import BodyInterrupted

MIB = 1024 * 1024


class FakeBody:
    """The rest of a body, read at most ``read_size`` bytes at a time; then ``ending``."""

    def __init__(self, rest: bytes, read_size: int = 100_003, ending: BaseException | None = None) -> None:
        self._rest = memoryview(rest)
        self._read_size = read_size
        self._ending = ending
        self.readers: set[str] = set()

    @property
    def length(self) -> int:
        return len(self._rest)

    def take(self) -> list[bytes] | None:  # pragma: no cover - the server's side
        return []

    def readinto(self, buffer: memoryview) -> int:
        self.readers.add(threading.current_thread().name)
        if not self._rest:
            if self._ending is not None:
                raise self._ending
            return 0
        count = min(len(buffer), self._read_size, len(self._rest))
        buffer[:count] = self._rest[:count]
        self._rest = self._rest[count:]
        return count

    def release(self) -> None:  # pragma: no cover - the server's side
        pass


class RecordingWriter:
    def __init__(self, fail_after: int | None = None) -> None:
        self.written = bytearray()
        self.fail_after = fail_after
        self.threads: set[str] = set()

    def write(self, data: bytes | memoryview) -> None:
        self.threads.add(threading.current_thread().name)
        if self.fail_after is not None and len(self.written) >= self.fail_after:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += data

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("pieces", "rest_size"),
    [
        ([], 5 * MIB + 17),  # none received with the headers
        ([b"a" * 1000, b"b" * 300_000], 3 * MIB),  # a few pieces first
        ([os.urandom(BUFFER_SIZE + 5)], 2 * MIB),  # pieces larger than a buffer
        ([b"only pieces"], 0),  # the whole body came with the headers
        ([], BUFFER_SIZE),  # exactly one buffer
    ],
)
def test_the_part_and_the_hash_are_the_body_exactly(pieces: list[bytes], rest_size: int) -> None:
    rest = os.urandom(rest_size)
    body = b"".join(pieces) + rest
    writer, hasher = RecordingWriter(), hashlib.sha256()

    received = direct_upload.receive(FakeBody(rest), pieces, writer, hasher)

    assert received == len(body)
    assert bytes(writer.written) == body
    assert hasher.hexdigest() == hashlib.sha256(body).hexdigest()
    assert writer.threads == {"berth-body-write"}


def test_the_hash_continues_a_session_s_running_hash() -> None:
    earlier, rest = os.urandom(3 * MIB), os.urandom(2 * MIB)
    hasher = hashlib.sha256(earlier)

    direct_upload.receive(FakeBody(rest), [], RecordingWriter(), hasher)

    assert hasher.hexdigest() == hashlib.sha256(earlier + rest).hexdigest()


def test_a_client_gone_mid_body_is_raised_after_the_helpers_stopped() -> None:
    before = set(threading.enumerate())
    gone = BodyInterrupted("the client closed the connection before the end of the body")

    body = FakeBody(os.urandom(3 * MIB), ending=gone)

    with pytest.raises(BodyInterrupted):
        direct_upload.receive(body, [], RecordingWriter(), hashlib.sha256())

    started = set(threading.enumerate()) - before  # threads, not names: a leaked one counts too
    assert not {thread.name for thread in started} & {"berth-body-hash", "berth-body-write"}


def test_a_full_disk_stops_reading_and_is_raised() -> None:
    body = FakeBody(os.urandom(32 * MIB))
    writer = RecordingWriter(fail_after=2 * MIB)

    with pytest.raises(OSError, match="No space left") as raised:
        direct_upload.receive(body, [], writer, hashlib.sha256())

    assert raised.value.errno == errno.ENOSPC
    assert len(writer.written) == 2 * MIB
    assert body.length > 16 * MIB  # it stopped soon after: the rest is left for the server to drop
