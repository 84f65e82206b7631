"""A private docker engine for the test session (Debian's ``docker.io``).

``dockerd`` runs without iptables, a bridge or overlay mounts (``--storage-driver=vfs``), with
its data root, exec root, pid file and API socket in one temporary folder, so it never touches
a system docker and needs nothing but root. The CLI is pointed at it with ``DOCKER_HOST`` and
given a private ``DOCKER_CONFIG`` so logins made by tests stay in the session.

The CLI is ``/usr/bin/docker`` on purpose: it is Debian's ``docker.io`` client, the one CI
installs, built from the same release as the daemon (API 1.41). A newer static client found
earlier on ``PATH`` (such as ``/usr/local/bin/docker`` on a developer machine) would also
talk to this daemon, but the suite would then test a client CI never runs.

The engine treats registries on 127.0.0.0/8 as insecure, so ``docker push 127.0.0.1:PORT/...``
speaks plain HTTP to a berth server without further configuration.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

DOCKER_CLI = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

# Variables that would point the CLI elsewhere than the private daemon.
_FOREIGN_VARIABLES = ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION")


@dataclass(frozen=True)
class DockerDaemon:
    """A running private dockerd; ``env`` carries ``DOCKER_HOST`` and ``DOCKER_CONFIG``."""

    env: dict[str, str]
    cli: str
    root: Path

    def run(self, *args: str, check: bool = True, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this daemon; failures raise with the CLI's stderr."""
        result = subprocess.run(
            [self.cli, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result


def _require(path: str, package: str) -> str:
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"{path} is missing: install Debian's {package!r} package (scripts/install-system-packages.sh)"
        )
    return path


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_answering(process: subprocess.Popen[bytes], daemon: DockerDaemon, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"dockerd exited with {process.returncode}:\n{_log_tail(log)}")
        answer = daemon.run("version", "--format", "{{.Server.Version}}", check=False, timeout=30)
        if answer.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"dockerd did not answer within {START_TIMEOUT:.0f} s:\n{_log_tail(log)}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (dockerd then stops its containerd); SIGKILL the process group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
    # dockerd was started in its own session: its group holds only it and its containerd.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def docker_daemon(extra_args: Sequence[str] = ()) -> Iterator[DockerDaemon]:
    """Start a private dockerd, wait until ``docker version`` answers, stop it at the end.

    ``extra_args`` go to ``dockerd`` after the defaults (the benchmark raises
    ``--max-concurrent-uploads`` so one engine can stand for many clients).
    """
    cli = _require(DOCKER_CLI, "docker.io")
    dockerd = _require(DOCKERD, "docker.io")
    # A short root: containerd's sockets live under the exec root and unix socket paths are
    # limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="bd-", dir="/tmp"))
    config = root / "config"
    config.mkdir()
    (config / "config.json").write_text("{}")
    socket = root / "docker.sock"
    log = root / "dockerd.log"
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_VARIABLES}
    env.update(DOCKER_HOST=f"unix://{socket}", DOCKER_CONFIG=str(config))
    daemon = DockerDaemon(env=env, cli=cli, root=root)
    command = [
        dockerd,
        f"--data-root={root / 'data'}",
        f"--exec-root={root / 'x'}",
        f"--pidfile={root / 'dockerd.pid'}",
        f"--host=unix://{socket}",
        "--iptables=false",
        "--bridge=none",
        "--storage-driver=vfs",
        *extra_args,
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_until_answering(process, daemon, log)
        yield daemon
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)
