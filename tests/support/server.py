"""``berth serve`` as a subprocess, for suites that drive it over the network.

A :class:`BerthServer` owns a data directory and a loopback port. It can be stopped with
SIGTERM (graceful) or SIGKILL (a crash) and started again on the same data directory and port,
which is how the restart suite checks durability. Everything the process writes to stdout
and stderr goes to one log file, appended across restarts, so tests can assert on it.

The server's command line is ``python -m berth serve --listen ... --data-dir ...`` plus
``args``; its environment is this process's minus any ``BERTH_*`` variable, plus ``env``.
Suites choose the rest: the e2e suites pass ``--insecure-no-auth`` today, and suites for
authentication can pass their own flags and variables.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.ports import free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 40.0  # berth drains for up to 30 s on SIGTERM
_PORT_ATTEMPTS = 3


class ServerError(RuntimeError):
    """The server did not start or stop as asked; the message carries the log's tail."""


class BerthServer:
    _instances: weakref.WeakSet[BerthServer] = weakref.WeakSet()

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.args = list(args)
        self.env = dict(env or {})
        self.port = port or free_port()
        self._port_fixed = port is not None
        self.log_path = log_path or self.data_dir.parent / f"{self.data_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        BerthServer._instances.add(self)

    @classmethod
    def instances(cls) -> list[BerthServer]:
        """Every server of this test session still referenced (tests/support/server_errors.py)."""
        return list(cls._instances)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: the bare address, which serves the default registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "berth", "serve", "--listen", self.address]
        command += ["--data-dir", str(self.data_dir)]
        if self.database_url:
            command += ["--database-url", self.database_url]
        return command + self.args

    def log(self) -> str:
        """Everything the server has written so far (all runs)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        """What the server has written to its log after byte ``offset``."""
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(offset)
                return log_file.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = START_TIMEOUT) -> BerthServer:
        """Start (or restart) the process and wait until ``GET /healthz`` answers 200."""
        if self.running:
            raise ServerError(f"berth on {self.address} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(_PORT_ATTEMPTS):
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._spawn()
            try:
                self._wait_until_ready(timeout)
                return self
            except ServerError:
                lost_port = "address already in use" in self.log()[log_offset:].lower()
                if not lost_port or self._port_fixed or attempt == _PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()  # another process took the free port first; pick again
        raise AssertionError("unreachable")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send ``sig`` and wait for the process to exit; returns its exit status."""
        self.send_signal(sig)
        return self.wait(timeout)

    def send_signal(self, sig: signal.Signals) -> None:
        """Signal the process without waiting (e.g. SIGTERM while a request is in flight)."""
        process = self._process()
        if process.poll() is None:
            process.send_signal(sig)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to exit; SIGKILL it and raise if it does not in time."""
        process = self._process()
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ServerError(f"berth did not exit within {timeout:.0f} s:\n{self._tail()}") from None

    def close(self) -> None:
        """Stop whatever is still running (SIGTERM, then SIGKILL); for fixture teardown."""
        if self.running:
            with contextlib.suppress(ServerError):
                self.stop(signal.SIGTERM)

    def __enter__(self) -> BerthServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _process(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise ServerError("berth was never started")
        return self.process

    def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
        env.update(self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            log_file.write(f"--- {' '.join(self.command())}\n".encode())
            log_file.flush()
            self.process = subprocess.Popen(
                self.command(), stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    raise ServerError(f"berth exited with {self.process.returncode}:\n{self._tail()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
                    raise ServerError(f"berth did not become ready within {timeout:.0f} s:\n{self._tail()}")
                time.sleep(0.05)

    def _tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])
