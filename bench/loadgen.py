"""Concurrent GET load with ``wrk`` (Debian's package), summarised through a Lua ``done`` hook."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = Path(__file__).with_name("wrk_report.lua")
_MARKER = "BENCH-JSON "


class LoadFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: Mapping[str, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    threads: int,
    headers: Mapping[str, str],
    form: str | None = None,
) -> LoadResult:
    """``connections`` keep-alive connections GETting ``url`` (or POSTing ``form``) for ``seconds``."""
    script = _SCRIPT if form is None else _post_script(form)
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(url)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        if script != _SCRIPT:
            script.unlink(missing_ok=True)
    for line in done.stdout.splitlines():
        if line.startswith(_MARKER):
            return _parse(json.loads(line[len(_MARKER) :]))
    raise LoadFailed(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")


def _post_script(form: str) -> Path:
    """wrk's report script preceded by a form POST (a temporary file, one per form)."""
    body = form.replace("\\", "\\\\").replace('"', '\\"')
    setup = (
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-post-", delete=False) as handle:
        handle.write(setup + _SCRIPT.read_text())
    return Path(handle.name)


def _parse(summary: Mapping[str, object]) -> LoadResult:
    def ms(key: str) -> float:
        value = summary[key]
        assert isinstance(value, int | float)
        return value / 1000

    requests, duration, errors = summary["requests"], summary["duration_us"], summary["errors"]
    if not (isinstance(requests, int) and isinstance(duration, int) and isinstance(errors, dict)):
        raise LoadFailed(f"unexpected wrk summary: {summary}")
    return LoadResult(
        requests=requests,
        seconds=duration / 1e6,
        p50_ms=ms("p50_us"),
        p90_ms=ms("p90_us"),
        p99_ms=ms("p99_us"),
        max_ms=ms("max_us"),
        errors={str(k): int(v) for k, v in errors.items()},
    )
