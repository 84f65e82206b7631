"""Starting and stopping the servers under test, one at a time, never leaving one behind.

Each server runs in its own session (process group) with a parent-death signal, so it dies with
the benchmark even if the benchmark is killed; :func:`running` stops it on every exit path.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from bench.metrics import Subject
from bench.procs import group

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1

# What cases may require of a server: "blobs" (push and pull), "manifests", "memory" (its RSS
# means something) and "token-auth" (berth with authentication on).
REGISTRY = frozenset({"blobs", "manifests", "memory"})
OWNER = "admin@localhost"
OWNER_PASSWORD = "bench-owner-password"


class ServerFailed(RuntimeError):
    pass


class ServerSpec(Protocol):
    @property
    def subject(self) -> Subject: ...

    @property
    def label(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[str]: ...

    def command(self, port: int, workdir: Path) -> list[str]:
        """The command line; may write configuration files into ``workdir``."""
        ...

    def version(self) -> str: ...


@dataclass(frozen=True)
class DistributionSpec:
    """CNCF Distribution from Debian's docker-registry package, filesystem storage.

    The in-memory blob descriptor cache is on, as in the configuration Distribution and Debian
    ship; without it this machine measured about a third fewer manifest GETs per second.
    """

    binary: str = "docker-registry"
    subject: Subject = "distribution"
    label: str = "Distribution"
    capabilities: frozenset[str] = REGISTRY

    def command(self, port: int, workdir: Path) -> list[str]:
        root = workdir / "storage"
        root.mkdir()
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            "storage:\n  cache:\n    blobdescriptor: inmemory\n"
            f"  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {HOST}:{port}\n"
        )
        return [self.binary, "serve", str(config)]

    def version(self) -> str:
        return _first_line([self.binary, "--version"])


@dataclass(frozen=True)
class BerthSpec:
    """``berth serve --insecure-no-auth`` from this checkout's virtualenv (or ``binary``)."""

    binary: str
    subject: Subject = "berth"
    label: str = "berth"
    capabilities: frozenset[str] = REGISTRY
    extra_args: tuple[str, ...] = ()
    authenticated: bool = False  # True: authentication on, the owner's password known (token-auth cases)
    # ``--workers N`` when this berth has the option (detected from ``berth serve --help``, so the
    # same bench runs against builds with and without it); 0 or None: never passed.
    workers: int | None = None

    def worker_args(self) -> list[str]:
        if not self.workers or "--workers" in self.extra_args:
            return []
        return ["--workers", str(self.workers)] if serve_has_option(self.binary, "--workers") else []

    def command(self, port: int, workdir: Path) -> list[str]:
        auth = ["env", f"BERTH_BOOTSTRAP_PASSWORD={OWNER_PASSWORD}"] if self.authenticated else []
        return [
            *auth,
            self.binary,
            "serve",
            *([] if self.authenticated else ["--insecure-no-auth"]),
            "--data-dir",
            str(workdir / "data"),
            "--listen",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            *self.worker_args(),
            *self.extra_args,
        ]

    def version(self) -> str:
        python = Path(self.binary).with_name("python")
        if not python.exists():
            return "unknown"
        code = "import importlib.metadata as m; print(m.version('berth'), m.version('uvicorn'))"
        berth, _, uvicorn = _first_line([str(python), "-c", code]).partition(" ")
        workers = self.worker_args()
        processes = f", {workers[1]} workers" if workers else ", one process"
        return f"berth {berth}{_checkout(Path(self.binary))} (uvicorn {uvicorn}{processes})"


@dataclass(frozen=True)
class SinkSpec:
    """:mod:`bench.sink`: discards uploads and serves ``payload_file``, to find the client's ceiling."""

    payload_file: Path
    subject: Subject = "client"
    label: str = "client ceiling"
    capabilities: frozenset[str] = frozenset({"blobs"})

    def command(self, port: int, workdir: Path) -> list[str]:
        script = Path(__file__).with_name("sink.py")
        return [sys.executable, str(script), "--port", str(port), "--file", str(self.payload_file)]

    def version(self) -> str:
        return f"bench/sink.py on Python {sys.version.split()[0]}"


@dataclass(frozen=True)
class RunningServer:
    spec: ServerSpec
    host: str
    port: int
    pid: int
    workdir: Path

    @property
    def subject(self) -> Subject:
        return self.spec.subject

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running(spec: ServerSpec, workdir: Path) -> Iterator[RunningServer]:
    """Start ``spec`` in ``workdir`` (emptied afterwards), wait until ``/v2/`` answers, stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = spec.command(port, workdir)
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        process = _spawn(command, log)
        try:
            _wait_ready(process, port, log_path)
            yield RunningServer(spec, HOST, port, process.pid, workdir)
        finally:
            stop(process)
            shutil.rmtree(workdir, ignore_errors=True)


def _spawn(command: Sequence[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    if shutil.which(command[0]) is None:
        raise ServerFailed(f"{command[0]} is not installed (scripts/install-system-packages.sh)")
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # servers start while no other thread runs
    )


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (forked workers too), SIGKILL to what lingers.

    The group is the session this benchmark started the server in, so it holds nothing else.
    """
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT)
    while group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group(pgid):
        _signal_group(pgid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"exited with {process.returncode} while starting:\n{_tail(log_path)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/v2/")
            if conn.getresponse().status in (200, 401):  # 401: up, with authentication on
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    raise ServerFailed(f"not ready after {READY_TIMEOUT:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _checkout(binary: Path) -> str:
    """`` at <commit>[+changes]`` when ``binary`` is a virtualenv inside a git checkout."""
    source = binary.resolve().parent.parent.parent  # <checkout>/.venv/bin/berth
    if not (source / ".git").exists():
        return ""
    commit = _output(["git", "-C", str(source), "rev-parse", "--short", "HEAD"])
    changed = _output(["git", "-C", str(source), "status", "--porcelain", "--", "src"])
    return f" at {commit}{'+changes' if changed else ''}" if commit else ""


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return ""
    return (done.stdout or done.stderr).strip()


@functools.cache
def serve_has_option(binary: str, option: str) -> bool:
    """Whether ``<binary> serve --help`` lists ``option`` (typer prints every option there)."""
    return option in _output([binary, "serve", "--help"])


def _first_line(command: list[str]) -> str:
    text = _output(command)
    return text.splitlines()[0] if text else "unknown"
