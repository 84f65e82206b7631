"""Seed cause "Docker is not configured correctly": the docker client is missing
(``DOCKER_COMMAND`` names a binary that does not exist) or its daemon is down (``DOCKER_HOST``
points at a dead socket). No request reaches the registry, so no login event is recorded."""

from __future__ import annotations

import pytest

from tests.scenarios.checks import check_health, check_health_text, diagnose
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("dockerenv",)
REGISTRY = "dockerenv"


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    return stage.create_registry(REGISTRY)


def test_docker_client_missing(stage: Stage, registry: str) -> None:
    missing = {"DOCKER_COMMAND": "/nonexistent/bin/docker"}
    login = stage.berth("acr", "login", "-n", REGISTRY, env=missing, check=False)
    assert login.returncode != 0
    assert "DOCKER_COMMAND_ERROR" in login.stderr, login.stderr

    code, text = check_health_text(stage, "-n", REGISTRY, env=missing)
    assert code == 1
    assert "An error occurred: DOCKER_COMMAND_ERROR" in text
    assert "The docker client (/nonexistent/bin/docker) was not found." in text
    assert "Fix: Install Docker (client 18.03 or later) and put it on PATH, or set DOCKER_COMMAND" in text
    assert "Please refer to https://aka.ms/acr/errors#docker_command_error for more information." in text

    ignoring = check_health(stage, "-n", REGISTRY, "--ignore-errors", env=missing)
    assert ignoring.code == 0  # az's --ignore-errors rule: report everything, exit 0
    assert ignoring.codes == ["DOCKER_COMMAND_ERROR"]
    assert f"Fetch access token for registry '{registry}' : OK" in [
        f["message"] for f in ignoring.report["findings"]
    ]

    found = diagnose(stage, REGISTRY, "--error", login.stderr)
    assert found.symptoms == ["Docker is not available"]
    assert stage.events(REGISTRY, status="failed") == []


def test_docker_daemon_down(stage: Stage, registry: str) -> None:
    dead = {"DOCKER_HOST": f"unix://{stage.root}/dead-docker.sock"}
    pulled = stage.docker("pull", f"{registry}/app:v1", docker_config=stage.docker_config("dead"), env=dead)
    assert pulled.returncode != 0
    assert "Cannot connect to the Docker daemon" in pulled.stderr, pulled.stderr

    health = check_health(stage, "-n", REGISTRY, env=dead)
    assert health.code == 1
    daemon = health.finding("DOCKER_DAEMON_ERROR")
    assert "Cannot connect to the Docker daemon" in daemon["cause"]
    assert "DOCKER_HOST" in daemon["fix"]

    found = diagnose(stage, REGISTRY, "--error", pulled.stderr)
    assert found.symptoms == ["Docker is not available"]
    assert "berth acr check-health -n dockerenv --yes" in found.text
    assert stage.events(REGISTRY, status="failed") == []
