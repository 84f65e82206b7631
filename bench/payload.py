"""The blob the benchmark pushes: random bytes in a file, generated and hashed once per run.

A larger blob (the 4 GiB memory test) is the same file sent several times back to back, so
only one file is ever written; its digest is computed once, when first asked for. Each run of
a push case sends a variant (:meth:`Payload.variant`): the same bytes but the first eight,
which carry the variant's number, so every push is of a blob the server has not stored yet.
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
    """``repeat`` back-to-back copies of ``path`` (``file_size`` bytes each), with the blob's
    first ``len(head)`` bytes replaced by ``head``."""

    path: Path
    file_size: int
    repeat: int = 1
    head: bytes = b""
    _digests: dict[tuple[int, bytes], str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return self.file_size * self.repeat

    @property
    def digest(self) -> str:
        key = (self.repeat, self.head)
        known = self._digests.get(key)
        if known is None:
            known = self._digests[key] = _sha256_of_file(self.path, self.repeat, self.head)
        return known

    def times(self, repeat: int) -> Payload:
        """The same file sent ``repeat`` times (shares the digest cache)."""
        return Payload(self.path, self.file_size, repeat, self.head, self._digests)

    def variant(self, number: int) -> Payload:
        """The same blob with its first 8 bytes set to ``number``: a different digest.

        A push of a digest the server already holds replaces or discards a stored 1 GiB file,
        and freeing its blocks (with this machine's ``discard`` mount, a TRIM) slowed the next
        run by up to a fifth; a push of new content is also what a registry mostly receives.
        """
        return Payload(self.path, self.file_size, self.repeat, number.to_bytes(8, "big"), self._digests)

    def pieces(self, start: int, count: int) -> Iterator[bytes | tuple[int, int]]:
        """Blob bytes ``start`` .. ``start + count``: ``head`` bytes as they are, the rest as
        (file offset, length) pieces to send from the file."""
        end = start + count
        if start < len(self.head):
            yield self.head[start:end]
            start = min(end, len(self.head))
        position = start
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


def _sha256_of_file(path: Path, repeat: int, head: bytes = b"") -> str:
    hasher = hashlib.sha256(head)
    buffer = bytearray(_HASH_BLOCK)
    view = memoryview(buffer)
    skip = len(head)  # blob bytes already hashed, from the head
    for _ in range(repeat):
        with open(path, "rb", buffering=0) as handle:
            while read := handle.readinto(buffer):
                hasher.update(view[min(skip, read) : read])
                skip = max(0, skip - read)
    return "sha256:" + hasher.hexdigest()
