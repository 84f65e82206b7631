"""Too many failed logins: the registry refuses further tries with ``429 TOOMANYREQUESTS`` and
``Retry-After``. Its own server, with a limit of 3 failures per identity."""

from __future__ import annotations

import re

import pytest

from tests.scenarios.checks import check_health, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("limited",)
REGISTRY = "limited"
SERVER_ENV = {"BERTH_AUTH_FAILURES_PER_IDENTITY": "3", "BERTH_AUTH_FAILURE_WINDOW_SECONDS": "120"}
WRONG = "wrong-password-for-rate-limit"


def test_repeated_failures_are_rate_limited(stage: Stage) -> None:
    login_server = stage.create_registry(REGISTRY)
    created = stage.berth_json(
        "acr", "token", "create", "-n", "guessed", "-r", REGISTRY, "--repository", "app", "content/read"
    )
    stage.remember(WRONG, *(p["value"] for p in created["credentials"]["passwords"]))
    config = stage.docker_config("limited")
    errors = []
    for _ in range(8):
        login = stage.docker("login", login_server, "-u", "guessed", "--password-stdin", docker_config=config,
                             stdin=WRONG)  # fmt: skip
        assert login.returncode != 0
        errors.append(login.stderr)
        if "toomanyrequests" in login.stderr.lower() or "429" in login.stderr:
            break
    assert "toomanyrequests: too many failed authentication attempts; retry after " in errors[-1], errors

    user = check_health(
        stage, "-n", f"http://{login_server}", "-u", "guessed", "-p", WRONG, identity="ci-guess"
    )
    assert "CONNECTIVITY_TOOMANYREQUESTS_ERROR" in user.codes  # the wire says so to anyone

    health = check_health(stage, "-n", REGISTRY, "-u", "guessed", "-p", WRONG)
    assert health.code == 1
    limited = health.finding("CONNECTIVITY_TOOMANYREQUESTS_ERROR")
    wait = re.fullmatch(
        r"Too many failed authentications from this client or identity; the registry refuses further "
        r"tries for (\d+) seconds\.",
        limited["cause"],
    )
    assert wait, limited["cause"]
    assert limited["fix"] == f"Wait {wait.group(1)} seconds, then retry with the correct credentials."

    found = diagnose(stage, REGISTRY, "--identity", "guessed", "--error", errors[-1])
    assert "Too many requests" in found.symptoms
    assert found.verdict_codes[0] == "RATE_LIMITED"  # the newest failure first
    assert "WRONG_SECRET" in found.verdict_codes  # and the failures that led to it
    event = one_event(stage.wait_events(REGISTRY, identity="guessed", reason="rate_limited"))
    assert event["ResultDescription"] == "429"
    stage.assert_no_secrets(REGISTRY)
