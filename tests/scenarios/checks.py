"""Running ``berth acr check-health`` and ``berth acr diagnose`` as a user would, and reading
what they name."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.scenarios.conftest import Stage

# What docker prints for the registry's refusals (as tests/e2e/test_docker_access.py pins them).
AUTH_REQUIRED = (
    "unauthorized: authentication required, visit https://aka.ms/acr/authorization for more information."
)
DENIED = "denied: requested access to the resource is denied"


@dataclass
class Health:
    code: int
    report: dict[str, Any]
    stderr: str

    @property
    def codes(self) -> list[str]:
        return [f["code"] for f in self.report["findings"] if f.get("code")]

    @property
    def explained(self) -> list[str]:
        return [f["code"] for f in self.report.get("explanations", [])]

    def finding(self, code: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [
            f
            for f in [*self.report["findings"], *self.report.get("explanations", [])]
            if f.get("code") == code
        ]
        assert found, f"check-health did not report {code}: {self.report}"
        return found[0]


def check_health(
    stage: Stage,
    *args: str,
    identity: str = "owner",
    docker_config: Path | None = None,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
) -> Health:
    """``check-health ... -o json`` (the report) — exit status as the command decided it."""
    result = stage.berth(
        "acr", "check-health", *args, "-o", "json",
        identity=identity, docker_config=docker_config, env=env, prefix=prefix, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return Health(result.returncode, json.loads(result.stdout), result.stderr)


def check_health_text(
    stage: Stage, *args: str, docker_config: Path | None = None, **kwargs: Any
) -> tuple[int, str]:
    """The text form a user reads (progress and errors on stderr)."""
    result = stage.berth("acr", "check-health", *args, docker_config=docker_config, check=False, **kwargs)
    return result.returncode, result.stderr


@dataclass
class Diagnosis:
    document: dict[str, Any]
    text: str

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        return list(self.document["verdicts"])

    @property
    def verdict_codes(self) -> list[str]:
        return [v["code"] for v in self.verdicts]

    def verdict(self, code: str) -> dict[str, Any]:
        found = [v for v in self.verdicts if v["code"] == code]
        assert found, f"diagnose named no {code}: {self.document}"
        return found[0]

    @property
    def symptoms(self) -> list[str]:
        return [s["symptom"] for s in self.document["symptoms"]]

    def possible_causes(self) -> str:
        return json.dumps(self.document["symptoms"])


def diagnose(stage: Stage, registry: str, *args: str, identity: str = "owner") -> Diagnosis:
    """``diagnose`` in both forms: the JSON document and the text a user reads."""
    document = stage.berth_json("acr", "diagnose", "-n", registry, *args, "-o", "json", identity=identity)
    text = stage.berth("acr", "diagnose", "-n", registry, *args, identity=identity).stdout
    return Diagnosis(document, text)


def one_event(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert rows, "no login event was recorded"
    return rows[0]


def printed_commands(text: str, fill: dict[str, str] | None = None) -> list[str]:
    """The commands in a printed Check or Fix line: ``a; b  (comment)`` → ``[a, b]``, with
    ``<placeholders>`` filled from ``fill``; prose (no command) is left out."""
    commands: list[str] = []
    for part in text.split("; "):
        command = part.split("  (")[0].strip().rstrip(",")
        for placeholder, value in (fill or {}).items():
            command = command.replace(placeholder, value)
        if command.split(" ", 1)[0] in ("berth", "docker", "curl"):
            assert "<" not in command, f"a placeholder is left in: {command}"
            commands.append(command)
    return commands


def _shims(stage: Stage) -> Path:
    """``berth`` and ``docker`` on PATH for the shell that runs printed commands."""
    folder = stage.root / "bin"
    if not folder.exists():
        folder.mkdir()
        for name, target in (("berth", f"{sys.executable} -m berth"), ("docker", stage.docker_daemon.cli)):
            shim = folder / name
            shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
            shim.chmod(0o755)
    return folder


def run_printed(
    stage: Stage,
    text: str,
    *,
    identity: str = "owner",
    docker_config: Path | None = None,
    fill: dict[str, str] | None = None,
) -> str:
    """Run every command a Check or Fix line prints, as a user would paste it into a shell; each
    must succeed. Returns what they printed."""
    commands = printed_commands(text, fill)
    assert commands, f"no command in: {text}"
    env = stage.env(identity, docker_config)
    env["PATH"] = f"{_shims(stage)}:{env.get('PATH', '')}"
    out = []
    for command in commands:
        result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, (
            f"{command} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
        out.append(result.stdout)
    return "".join(out)
