"""Fault injection for crash tests.

``BERTH_FAULT=<point>`` in a server's environment kills the server (SIGKILL, as a power cut
or ``kill -9`` would) when it reaches the named point, so a test can crash it between any two
writes and check what a restart makes of the state left behind. Unset, :func:`reached` costs
one string comparison. The points are listed in ``docs/security.md``. With ``--workers``, the
supervisor is killed too (the other workers die with it): a crash is the whole server's, as
with one process.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "upload.part-written",  # a chunk's part is on disk, the session has not accepted it yet
    "upload.verified",  # the digest matched, nothing committed yet
    "upload.committed",  # the blob's bytes are in place, the metadata does not know yet
    "upload.recorded",  # the metadata has the blob and no session, the parts are still on disk
)

_ARMED = os.environ.get("BERTH_FAULT", "")
SUPERVISOR_VARIABLE = "BERTH_SUPERVISOR_PID"  # set by berth.workers for its workers


def reached(point: str) -> None:
    """Die here if this is the armed fault point."""
    if _ARMED and point == _ARMED:
        supervisor = os.environ.get(SUPERVISOR_VARIABLE, "")
        if supervisor.isdigit() and int(supervisor) == os.getppid():
            os.kill(int(supervisor), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
