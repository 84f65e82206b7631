"""``write_part``: what stops a body midway reaches the caller as itself, not wrapped in the
task group's exception group (a client gone mid-PATCH was a 500 instead of a dropped request)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from starlette.requests import ClientDisconnect

from berth.content.uploads import BLOCK_SIZE, first_cause, write_part
from berth.storage.filesystem import FilesystemBlobStore


async def _body(blocks: int, then: BaseException | None = None) -> AsyncIterator[bytes]:
    for _ in range(blocks):
        yield b"x" * BLOCK_SIZE
    if then is not None:
        raise then


def test_a_whole_body_is_written_and_hashed(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    hasher = hashlib.sha256()
    received = anyio.run(write_part, store, "upload-1", "part-1", _body(3), hasher)
    assert received == 3 * BLOCK_SIZE
    assert hasher.hexdigest() == hashlib.sha256(b"x" * 3 * BLOCK_SIZE).hexdigest()


@pytest.mark.parametrize("cause", [ClientDisconnect(), OSError(28, "No space left on device")])
def test_a_body_stopped_midway_raises_its_cause_itself(tmp_path: Path, cause: BaseException) -> None:
    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(type(cause)) as raised:
        anyio.run(write_part, store, "upload-1", "part-1", _body(5, cause), hashlib.sha256())
    assert raised.value is cause


def test_the_first_cause_of_nested_groups() -> None:
    inner = ValueError("inner")
    nested = BaseExceptionGroup("outer", [BaseExceptionGroup("middle", [inner]), KeyError("k")])
    assert first_cause(nested) is inner
