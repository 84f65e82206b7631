"""Runners for the command-line clients the e2e suites drive: skopeo and podman.

Each client gets private state in a temporary folder (podman's image store, an auth file), so
tests never share or leak client state. A failing command raises with its output.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMAND_TIMEOUT = 300.0


def run(
    command: list[str], env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def _private_env(home: Path) -> dict[str, str]:
    """The environment with a private auth file (podman refuses one that does not exist)."""
    auth_file = home / "auth.json"
    if not auth_file.exists():
        auth_file.write_text('{"auths": {}}')
    env = dict(os.environ)
    env["REGISTRY_AUTH_FILE"] = str(auth_file)
    return env


@dataclass(frozen=True)
class Skopeo:
    """skopeo 1.9; ``--tls-verify=false`` lets it speak plain HTTP to berth."""

    home: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(["skopeo", *args], env=_private_env(self.home), check=check)

    def copy(self, source: str, destination: str, *options: str) -> None:
        self.run("copy", "--src-tls-verify=false", "--dest-tls-verify=false", *options, source, destination)

    def inspect(self, reference: str, *options: str) -> Any:
        return json.loads(self.run("inspect", "--tls-verify=false", *options, reference).stdout)

    def raw_manifest(self, reference: str) -> bytes:
        return self.run("inspect", "--tls-verify=false", "--raw", reference).stdout.encode()


@dataclass(frozen=True)
class Podman:
    """podman 4.3 as root with its own image store (vfs) under ``home``."""

    home: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            "podman",
            f"--root={self.home / 'root'}",
            f"--runroot={self.home / 'run'}",
            f"--tmpdir={self.home / 'tmp'}",
            "--storage-driver=vfs",
            "--events-backend=file",
            "--cgroup-manager=cgroupfs",
            *args,
        ]
        return run(command, env=_private_env(self.home), check=check)

    def image_id(self, reference: str) -> str:
        return self.run("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
