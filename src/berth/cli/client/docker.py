"""The local docker (or podman) client, found and used the way ``az acr`` does.

:func:`find_docker` honours ``DOCKER_COMMAND`` (e.g. ``podman``), else ``docker``, else
``podman`` when only podman is installed, and checks the daemon with ``<docker> ps``.
:func:`docker_login` runs ``<docker> login --username U --password-stdin <login server>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from berth.cli.client import diagnostics
from berth.cli.client.diagnostics import DiagnosticError
from berth.cli.framework import CliError, debug, warn


@dataclass(frozen=True)
class DockerCheck:
    command: str | None
    error: DiagnosticError | None = None


def docker_command_name() -> str:
    explicit = os.environ.get("DOCKER_COMMAND")
    if explicit:
        return explicit
    if shutil.which("docker") is None and shutil.which("podman") is not None:
        return "podman"
    return "docker"


def find_docker() -> DockerCheck:
    """az's ``get_docker_command``: the command, or the catalogue error explaining why not."""
    command = docker_command_name()
    try:
        process = subprocess.run([command, "ps"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        debug(f"could not run '{command} ps': {exc}")
        return DockerCheck(None, diagnostics.DOCKER_COMMAND_ERROR)
    if process.returncode != 0:
        stderr = process.stderr.decode(errors="replace").strip()
        if stderr:
            return DockerCheck(None, diagnostics.DOCKER_COMMAND_ERROR.with_message(stderr))
        return DockerCheck(command, diagnostics.DOCKER_DAEMON_ERROR)
    return DockerCheck(command)


def docker_login(command: str, username: str, password: str, login_server: str) -> None:
    """Log docker in; its stdout ("Login Succeeded") passes through, its stderr becomes warnings."""
    debug(f"Invoking '{command} login --username {username} --password-stdin {login_server}'")
    try:
        process = subprocess.run(
            [command, "login", "--username", username, "--password-stdin", login_server],
            input=password.encode(),
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        raise CliError(f"Could not run '{command}': {exc.strerror or exc}") from None
    stderr = process.stderr.decode(errors="replace")
    lines = [line for line in stderr.splitlines() if line.strip() and "--password-stdin" not in line]
    if lines:
        warn("\n".join(lines))
    if process.returncode != 0:
        raise CliError("Login failed.")
