"""The real Azure CLI (azure-cli from PyPI) in its own cached virtualenv, and a runner for it.

azure-cli is a test-only dependency that berth never imports. It is installed once per machine
into ``/var/cache/berth-tests/azure-cli-<version>`` (where that is writable, as for root in CI;
else ``<repo>/.cache/``, git-ignored; or ``$BERTH_AZ_CACHE``), a folder that survives test runs
and fresh clones, so only the first run pays the install (a few minutes, about 730 MB). A
file lock makes concurrent sessions wait for one install; a marker file is written only once
pip has succeeded, so an interrupted install is redone.

:class:`Az` runs ``az`` with a private ``AZURE_CONFIG_DIR`` (its own clouds, sign-ins and
token cache), berth's CA in ``REQUESTS_CA_BUNDLE``, telemetry off, and the private docker
engine's ``DOCKER_HOST``/``DOCKER_CONFIG``, with Debian's docker CLI first on ``PATH``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AZ_VERSION = "2.91.0"
REPO = Path(__file__).resolve().parents[3]
INSTALL_TIMEOUT = 1800.0
COMMAND_TIMEOUT = 300.0


MACHINE_CACHE = Path("/var/cache/berth-tests")


def cache_dir() -> Path:
    configured = os.environ.get("BERTH_AZ_CACHE")
    if configured:
        return Path(configured)
    machine_wide = MACHINE_CACHE.exists() or os.access(MACHINE_CACHE.parent, os.W_OK)
    return (MACHINE_CACHE if machine_wide else REPO / ".cache") / f"azure-cli-{AZ_VERSION}"


def ensure_installed() -> Path:
    """The path of ``az`` in the cached virtualenv, installing azure-cli first if needed."""
    venv = cache_dir()
    az = venv / "bin" / "az"
    marker = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f".{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and az.exists():
            return az
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        install = subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "--disable-pip-version-check",
                f"azure-cli=={AZ_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        if install.returncode != 0:
            raise RuntimeError(f"pip install azure-cli=={AZ_VERSION} failed:\n{install.stderr[-4000:]}")
        marker.write_text(AZ_VERSION)
    return az


@dataclass
class Az:
    """``az`` with private state under ``home``."""

    executable: Path
    home: Path
    ca_file: Path
    docker_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "BERTH_"))}
        env.update(self.docker_env)
        bin_dir = self.home / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        docker = bin_dir / "docker"
        if not docker.exists():
            docker.symlink_to("/usr/bin/docker")  # Debian's client, the one CI runs
        env.update(
            AZURE_CONFIG_DIR=str(self.home / "config"),
            AZURE_CORE_COLLECT_TELEMETRY="false",
            AZURE_CORE_ONLY_SHOW_ERRORS="false",
            REQUESTS_CA_BUNDLE=str(self.ca_file),
            PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
        )
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.executable), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"az {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        """Run ``az ... -o json`` and parse what it printed (None for no output)."""
        out = self.run(*args, "-o", "json").stdout.strip()
        return json.loads(out) if out else None

    def fails(self, *args: str) -> str:
        """Run a command that must fail; returns its stderr."""
        result = self.run(*args, check=False)
        assert result.returncode != 0, f"az {' '.join(args)} succeeded:\n{result.stdout}"
        return result.stderr

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.executable), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def register_cloud(self, resource_manager: str) -> None:
        """The one-command registration docs/az.md gives, plus MSAL's instance discovery off."""
        self.run("cloud", "register", "-n", "berth", "--endpoint-resource-manager", resource_manager)
        self.run("cloud", "set", "-n", "berth")
        self.run("config", "set", "core.instance_discovery=false")
