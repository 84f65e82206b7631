"""Optional py-spy recordings of berth while a case runs (``--profile-dir``).

Each profiled section writes ``<name>.txt`` (collapsed stacks, loadable in speedscope or
flamegraph.pl) and ``<name>.top.txt``: the functions with the most samples by self time and
by inclusive time. py-spy leaves idle threads out, but with ``--nonblocking`` it still counts
worker threads parked in ``threading.Condition.wait``; the summary drops those samples.
``Runner.run`` as a leaf is native code under the event loop (uvloop's I/O, httptools'
parsing, and waiting in epoll). Sampling costs the server a little CPU, so figures from a
profiled run are marked as such in the results.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

RATE = 250
_PARKED = ("Condition.wait (threading.py)",)
_ATTACH_SECONDS = 0.5
_TOP = 25


class ProfilerMissing(RuntimeError):
    pass


def find_py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")  # installed into this virtualenv
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise ProfilerMissing("--profile-dir needs py-spy: .venv/bin/pip install py-spy")
    return found


class Profiler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.executable = find_py_spy()

    @contextlib.contextmanager
    def section(self, pid: int, name: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        raw = self.directory / f"{name}.txt"
        command = [self.executable, "record", "--pid", str(pid), "--rate", str(RATE)]
        command += ["--nonblocking", "--subprocesses", "--format", "raw", "--output", str(raw)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(_ATTACH_SECONDS)
        try:
            yield
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if raw.exists():
            (self.directory / f"{name}.top.txt").write_text(summarize(raw))


def summarize(collapsed: Path, top: int = _TOP) -> str:
    """Self and inclusive sample shares per function from a collapsed-stack file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        if not frames or frames[-1] in _PARKED:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples at {RATE} Hz (parked worker threads left out)", "", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {frame}" for frame, n in own.most_common(top)] if total else []
    lines += ["", "incl %  function"]
    lines += [f"{100 * n / total:6.1f}  {frame}" for frame, n in inclusive.most_common(top)] if total else []
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """``fn (path/to/site-packages/pkg/mod.py:12)`` → ``fn (pkg/mod.py)``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name
