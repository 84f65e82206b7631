"""Sampling a server's resident memory (``VmRSS`` from ``/proc``) from a background thread.

For a server with worker processes the figure is the sum over its process group (shared pages
counted once per process, so it overstates a forking server a little).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bench.procs import group

MIB = 1024 * 1024
INTERVAL = 0.02


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
                break
    if not total:
        raise RuntimeError(f"no VmRSS for processes {list(pids)}")
    return total


class RssSampler:
    """``with RssSampler(pgid) as rss: ...`` then ``rss.peak`` (bytes) and ``rss.samples``."""

    def __init__(self, pgid: int, interval: float = INTERVAL) -> None:
        self._pids = group(pgid) or [pgid]
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.samples: list[int] = []

    @property
    def peak(self) -> int:
        return max(self.samples)

    @property
    def first(self) -> int:
        return self.samples[0]

    def _run(self) -> None:
        while True:
            try:
                self.samples.append(rss_bytes(self._pids))
            except (OSError, RuntimeError):
                return
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> RssSampler:
        self.samples.append(rss_bytes(self._pids))
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError, RuntimeError):
            self.samples.append(rss_bytes(self._pids))


def idle_rss(pgid: int, seconds: float = 1.0) -> int:
    """The median RSS over ``seconds`` with no load."""
    with RssSampler(pgid) as sampler:
        time.sleep(seconds)
    ordered = sorted(sampler.samples)
    return ordered[len(ordered) // 2]
