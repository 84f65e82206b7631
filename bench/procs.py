"""The processes of a server: its process group (each server starts in a session of its own).

Servers that fork workers (uvicorn ``--workers``, granian) are accounted as a whole: CPU time
and RSS are summed over the group's processes, found once per measurement.
"""

from __future__ import annotations

import os
from pathlib import Path


def stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` after the command name; index 0 is field 3 (state)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def group(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (the leader first)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(stat_fields(int(entry))[2]) == pgid:
                members.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(members, key=lambda pid: pid != pgid)
