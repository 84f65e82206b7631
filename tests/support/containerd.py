"""A private containerd for the test session (Debian's ``containerd`` package), for ``ctr``.

It runs with its root, state, socket and config in one short temporary folder, the CRI plugin
off, and is stopped (SIGTERM, then SIGKILL of its process group) at the end. :meth:`Containerd.ctr`
runs ``ctr`` against it in a namespace of its own; images are imported without unpacking, so
no snapshotter is needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
NAMESPACE = "berth-e2e"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Containerd:
    root: Path

    @property
    def address(self) -> str:
        return str(self.root / "containerd.sock")

    def ctr(self, *args: str, check: bool = True, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """``ctr --address <socket> --namespace berth-e2e ARGS``; a failure raises with its output."""
        command = [CTR, "--address", self.address, "--namespace", NAMESPACE, *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(
                f"ctr {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result


def _config(root: Path) -> str:
    return (
        "version = 2\n"
        f'root = "{root / "root"}"\n'
        f'state = "{root / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        "[grpc]\n"
        f'  address = "{root / "containerd.sock"}"\n'
        "[ttrpc]\n"
        f'  address = "{root / "containerd.sock.ttrpc"}"\n'
    )


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def containerd() -> Iterator[Containerd]:
    """Start a private containerd, wait until ``ctr version`` answers, stop it at the end."""
    for path in (CONTAINERD, CTR):
        if not os.access(path, os.X_OK):
            raise RuntimeError(
                f"{path} is missing: install Debian's 'containerd' (scripts/install-system-packages.sh)"
            )
    root = Path(tempfile.mkdtemp(prefix="bc-", dir="/tmp"))  # unix socket paths: at most 108 bytes
    config = root / "config.toml"
    config.write_text(_config(root))
    log = root / "containerd.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [CONTAINERD, "--config", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    daemon = Containerd(root)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while daemon.ctr("version", check=False, timeout=30).returncode != 0:
            if process.poll() is not None:
                raise RuntimeError(f"containerd exited with {process.returncode}:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"containerd did not answer within {START_TIMEOUT:.0f} s:\n{_log_tail(log)}"
                )
            time.sleep(0.2)
        yield daemon
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(root, ignore_errors=True)
