"""A client whose clock is off: ``check-health`` runs under ``faketime`` four hours ahead and
names the skew from the registry's ``Date`` header. The server judges every token by its own
clock, so the skewed client's requests still succeed (no failed login event); what breaks is
what the client decides locally from token times (e.g. SDKs that read a refresh token's
``exp``), which check-health shows (a stored identity token looks expired)."""

from __future__ import annotations

import shutil

import pytest

from tests.scenarios.checks import check_health, diagnose
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("skewed",)
REGISTRY = "skewed"
FAKETIME = shutil.which("faketime") or "/usr/bin/faketime"


def test_client_clock_four_hours_ahead(stage: Stage) -> None:
    stage.create_registry(REGISTRY)
    config = stage.docker_config("skewed")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=config)
    ahead = (FAKETIME, "-f", "+4h")
    env = {"FAKETIME_NO_CACHE": "1"}

    health = check_health(
        stage, "-n", REGISTRY, "--ignore-errors", docker_config=config, env=env, prefix=ahead
    )
    skew = health.finding("CLOCK_SKEW_ERROR")
    seconds = int(skew["facts"]["skew"])
    assert 4 * 3600 - 120 < seconds < 4 * 3600 + 120
    assert "(e.g. enable NTP" in skew["fix"]
    assert "DOCKER_IDENTITY_TOKEN_EXPIRED" in health.codes  # looks expired to a client 4 hours ahead

    # Two hours ahead, everything still works: a warning with the margin the refresh token keeps.
    two = check_health(stage, "-n", REGISTRY, docker_config=config, env=env, prefix=(FAKETIME, "-f", "+2h"))
    assert two.code == 0, two.report
    assert "CLOCK_SKEW_ERROR" not in two.codes
    warning = two.finding("CLOCK_SKEW_WARNING")
    assert warning["status"] == "warning"
    assert "they still work" in warning["cause"]
    assert (
        "refresh token with 0 h 5" in warning["cause"] or "refresh token with 1 h 0 min" in warning["cause"]
    )

    in_time = check_health(stage, "-n", REGISTRY, docker_config=config)
    assert "CLOCK_SKEW_ERROR" not in in_time.codes
    assert in_time.code == 0

    found = diagnose(stage, REGISTRY, "--error", "token is not valid yet")
    assert "CLOCK_SKEW_ERROR" in found.possible_causes()
    assert stage.events(REGISTRY, status="failed") == []  # the server's own clock decides
    stage.assert_no_secrets(REGISTRY)
