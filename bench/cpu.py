"""CPU time a server spends on a measured block (all its processes and threads, user + system).

Throughput on a shared 2-core machine moves with whatever else runs; CPU seconds per GiB or
per request move much less, so the cases record both.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from types import TracebackType

from bench.procs import group, stat_fields

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime so far (fields 14 and 15 of ``/proc/<pid>/stat``), summed over ``pids``."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


class CpuMeter:
    """``with CpuMeter(pgid) as cpu: ...`` then ``cpu.seconds``, over the server's process group."""

    def __init__(self, pgid: int) -> None:
        self._pids = group(pgid) or [pgid]
        self._start = 0.0
        self.seconds = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = cpu_seconds(self._pids)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.seconds = cpu_seconds(self._pids) - self._start
