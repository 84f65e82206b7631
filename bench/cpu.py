"""CPU time a server spends on a measured block (all its threads, user + system).

Throughput on a shared 2-core machine moves with whatever else runs; CPU seconds per GiB or
per request move much less, so the cases record both.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (fields 14 and 15 of ``/proc/<pid>/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuMeter:
    """``with CpuMeter(pid) as cpu: ...`` then ``cpu.seconds``."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._start = 0.0
        self.seconds = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = cpu_seconds(self._pid)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.seconds = cpu_seconds(self._pid) - self._start
