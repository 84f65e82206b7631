"""Temporary ``/etc/hosts`` entries, for Host-routed registries (``<name>.<domain>:PORT``).

Names under ``.localhost`` do not resolve here by default. CI runs as root, so a test adds a
line mapping its names to 127.0.0.1 and removes exactly that line afterwards. The file is
edited in place under an exclusive lock (it is often a bind mount, which cannot be replaced
by a rename), and each line carries a unique marker so concurrent sessions never remove each
other's entries.
"""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

HOSTS = Path("/etc/hosts")


@contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    try:
        handle = path.open("r+")
    except PermissionError:
        raise PermissionError(
            f"{path} is not writable: the Host-routed tests need root (CI runs as root)"
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


@contextmanager
def hosts_entries(*names: str, address: str = "127.0.0.1", path: Path = HOSTS) -> Iterator[None]:
    """Make ``names`` resolve to ``address`` for the duration of the block."""
    marker = f"# berth-e2e-{uuid.uuid4().hex}"
    with _locked(path) as hosts:
        text = hosts.read()
        prefix = "" if not text or text.endswith("\n") else "\n"
        hosts.write(f"{prefix}{address} {' '.join(names)} {marker}\n")
    try:
        yield
    finally:
        with _locked(path) as hosts:
            kept = [line for line in hosts.read().splitlines(keepends=True) if marker not in line]
            hosts.seek(0)
            hosts.truncate()
            hosts.write("".join(kept))
