"""The blob the benchmark pushes: random bytes in a file, generated and hashed once per run.

A larger blob (the 4 GiB memory test) is the same file sent several times back to back, so
only one file is ever written; its digest is computed once, when first asked for.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
_WRITE_BLOCK = 64 * MIB
_HASH_BLOCK = 4 * MIB


@dataclass(frozen=True)
class Payload:
    """``repeat`` back-to-back copies of ``path`` (``file_size`` bytes each)."""

    path: Path
    file_size: int
    repeat: int = 1
    _digests: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return self.file_size * self.repeat

    @property
    def digest(self) -> str:
        known = self._digests.get(self.repeat)
        if known is None:
            known = self._digests[self.repeat] = _sha256_of_file(self.path, self.repeat)
        return known

    def times(self, repeat: int) -> Payload:
        """The same file sent ``repeat`` times (shares the digest cache)."""
        return Payload(self.path, self.file_size, repeat, self._digests)

    def segments(self, start: int, count: int) -> Iterator[tuple[int, int]]:
        """(file offset, length) pieces covering blob bytes ``start`` .. ``start + count``."""
        position, end = start, start + count
        while position < end:
            offset = position % self.file_size
            length = min(self.file_size - offset, end - position)
            yield offset, length
            position += length


def generate(directory: Path, size: int) -> Payload:
    """Write ``size`` random bytes to ``directory/payload.bin``."""
    path = directory / "payload.bin"
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(_WRITE_BLOCK, remaining))
            handle.write(block)
            remaining -= len(block)
    return Payload(path, size)


def _sha256_of_file(path: Path, repeat: int) -> str:
    hasher = hashlib.sha256()
    buffer = bytearray(_HASH_BLOCK)
    view = memoryview(buffer)
    for _ in range(repeat):
        with open(path, "rb", buffering=0) as handle:
            while read := handle.readinto(buffer):
                hasher.update(view[:read])
    return "sha256:" + hasher.hexdigest()
