"""The client side: the docker (or podman) command, its daemon and version, and where its
configuration keeps credentials for a login server.

Commands run through a :class:`Runner` so the logic can be tested without docker; the CLI
passes the real one.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from berth.troubleshoot.findings import Finding, passed, problem

MINIMUM_DOCKER = (18, 3)


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    def __call__(self, args: list[str], stdin: str | None = None, timeout: float = 60) -> CommandResult: ...


def run_command(args: list[str], stdin: str | None = None, timeout: float = 60) -> CommandResult:
    try:
        done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        return CommandResult(127, "", str(exc))
    except subprocess.TimeoutExpired:
        return CommandResult(124, "", f"{args[0]} did not answer within {timeout:.0f} seconds")
    return CommandResult(done.returncode, done.stdout, done.stderr)


def docker_command(environ: Mapping[str, str]) -> str | None:
    """``$DOCKER_COMMAND``, else ``docker``, else ``podman`` — as ``az acr`` picks it."""
    configured = environ.get("DOCKER_COMMAND")
    if configured:
        return configured if shutil.which(configured) else None
    for candidate in ("docker", "podman"):
        if shutil.which(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class DockerState:
    command: str | None
    daemon_ok: bool
    findings: list[Finding]


def check_docker(environ: Mapping[str, str], run: Runner) -> DockerState:
    command = docker_command(environ)
    if command is None:
        return DockerState(
            None,
            False,
            [problem("DOCKER_COMMAND_ERROR", {"docker": environ.get("DOCKER_COMMAND", "docker")})],
        )
    findings: list[Finding] = []
    listed = run([command, "ps"], timeout=30)
    label = "Podman" if "podman" in Path(command).name else "Docker"
    daemon_ok = listed.returncode == 0
    if daemon_ok:
        findings.append(passed(f"{label} daemon status: available"))
    else:
        error = (listed.stderr or listed.stdout).strip().splitlines()[-1:] or ["no answer"]
        findings.append(problem("DOCKER_DAEMON_ERROR", {"docker": command, "error": error[0]}))
    findings.append(_check_version(command, label, run))
    return DockerState(command, daemon_ok, findings)


def _check_version(command: str, label: str, run: Runner) -> Finding:
    result = run([command, "version", "--format", "json"], timeout=30)
    version = None
    try:
        document = json.loads(result.stdout)
        client = document.get("Client") or document.get("client") or {}
        version = client.get("Version") or client.get("version")
    except (json.JSONDecodeError, AttributeError):
        version = None
    if not version:
        found = re.search(r"(\d+\.\d+(?:\.\d+)?)", result.stdout)
        version = found.group(1) if found else None
    if version is None:
        return problem("DOCKER_VERSION_ERROR", {"version": "unknown", "docker": command})
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if label == "Docker" and numbers < MINIMUM_DOCKER:
        return problem("DOCKER_VERSION_ERROR", {"version": version, "docker": command})
    return passed(f"{label} version: {version}", version=version)


# --- client configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCredential:
    source: str  # "auths entry" or "credential helper docker-credential-<x>"
    config_file: str
    host_key: str  # the key under which it is stored
    username: str = ""
    secret: str = ""  # the password (never printed)
    identity_token: str = ""
    error: str = ""  # a credential helper's failure


def config_files(environ: Mapping[str, str], command: str | None) -> list[Path]:
    """Where docker (and podman) look for registry credentials, in order of precedence."""
    files: list[Path] = []
    if command and "podman" in Path(command).name:
        if environ.get("REGISTRY_AUTH_FILE"):
            files.append(Path(environ["REGISTRY_AUTH_FILE"]))
        if environ.get("XDG_RUNTIME_DIR"):
            files.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
        files.append(Path.home() / ".config" / "containers" / "auth.json")
    docker_config = environ.get("DOCKER_CONFIG")
    files.append(
        Path(docker_config) / "config.json" if docker_config else Path.home() / ".docker" / "config.json"
    )
    return files


def _decode_auth(value: str) -> tuple[str, str]:
    try:
        username, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return username, password


def _helper(name: str, host: str, config_file: str, run: Runner) -> StoredCredential:
    result = run([f"docker-credential-{name}", "get"], stdin=host, timeout=30)
    source = f"credential helper docker-credential-{name}"
    if result.returncode != 0:
        error = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
        return StoredCredential(source, config_file, host, error=error)
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        return StoredCredential(source, config_file, host, error="the helper's answer is not JSON")
    username, secret = str(document.get("Username", "")), str(document.get("Secret", ""))
    if username == "<token>":
        return StoredCredential(source, config_file, host, identity_token=secret)
    return StoredCredential(source, config_file, host, username=username, secret=secret)


def find_credentials(
    login_server: str, environ: Mapping[str, str], command: str | None, run: Runner
) -> tuple[StoredCredential | None, list[str]]:
    """The credential docker would send to ``login_server``, and host keys that differ only in case."""
    case_mismatches: list[str] = []
    for path in config_files(environ, command):
        try:
            document: dict[str, Any] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        helpers = document.get("credHelpers") or {}
        if login_server in helpers:
            return _helper(str(helpers[login_server]), login_server, str(path), run), case_mismatches
        auths = document.get("auths") or {}
        case_mismatches += [
            key for key in auths if key != login_server and key.lower() == login_server.lower()
        ]
        entry = auths.get(login_server)
        if document.get("credsStore") and (entry is not None or not auths):
            return _helper(str(document["credsStore"]), login_server, str(path), run), case_mismatches
        if isinstance(entry, dict):
            username, secret = _decode_auth(str(entry.get("auth", "")))
            return (
                StoredCredential(
                    "auths entry",
                    str(path),
                    login_server,
                    username,
                    secret,
                    str(entry.get("identitytoken", "")),
                ),
                case_mismatches,
            )
    return None, case_mismatches
