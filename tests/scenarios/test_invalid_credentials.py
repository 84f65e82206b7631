"""Seed cause "the registry credentials are not valid", one scenario per kind of credential:
the admin password, a token password, a service principal's secret, and a user name that is
none of those. Each fails a real ``docker login``; check-health (given the same credentials)
and diagnose name the exact cause and fix; the login event records the reason."""

from __future__ import annotations

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, check_health, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("badcreds",)
REGISTRY = "badcreds"
WRONG = "wrong-secret-value-0123456789"


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    stage.remember(WRONG)
    return stage.create_registry(REGISTRY, "--admin-enabled", "true")


def _docker_login(stage: Stage, login_server: str, username: str, password: str, name: str) -> str:
    config = stage.docker_config(name)
    result = stage.docker(
        "login", login_server, "-u", username, "--password-stdin", docker_config=config, stdin=password
    )
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_wrong_admin_password(stage: Stage, registry: str) -> None:
    error = _docker_login(stage, registry, REGISTRY, WRONG, "admin")
    assert AUTH_REQUIRED in error, error

    # The CI job with the admin credentials, without a berth sign-in: one answer for a wrong
    # secret or an unknown name (the owner, below, sees which).
    user = check_health(stage, "-n", f"http://{registry}", "-u", REGISTRY, "-p", WRONG, identity="ci-admin")
    assert user.code == 1
    assert user.explained == ["WRONG_CREDENTIALS"]

    health = check_health(stage, "-n", REGISTRY, "-u", REGISTRY, "-p", WRONG)
    assert health.code == 1
    assert "CREDENTIALS_REJECTED" in health.codes
    wrong = health.finding("WRONG_SECRET")
    assert wrong["cause"] == f"The password or secret given for admin user '{REGISTRY}' is wrong."
    assert wrong["fix"] == f"berth acr credential renew -n {REGISTRY} --password-name password"

    correlation = health.finding("CREDENTIALS_REJECTED")["facts"]["correlation_id"]
    found = diagnose(stage, REGISTRY, "--correlation-id", correlation)
    assert found.verdict_codes == ["WRONG_SECRET"]
    assert f"berth acr credential renew -n {REGISTRY} --password-name password" in found.text

    event = one_event(stage.wait_events(REGISTRY, identity=REGISTRY))
    assert event["Reason"] == "bad_secret"
    assert event["IdentityKind"] == "admin"
    assert event["ResultDescription"] == "401"
    stage.assert_no_secrets(REGISTRY)


def test_wrong_token_password(stage: Stage, registry: str) -> None:
    created = stage.berth_json(
        "acr", "token", "create", "-n", "ci-token", "-r", REGISTRY, "--repository", "app", "content/read"
    )
    stage.remember(*(p["value"] for p in created["credentials"]["passwords"]))
    error = _docker_login(stage, registry, "ci-token", WRONG, "token")
    assert "Application not registered with AAD" in error, error

    found = diagnose(stage, REGISTRY, "--identity", "ci-token", "--error", error)
    assert "Application not registered with AAD" in found.symptoms
    verdict = found.verdict("WRONG_SECRET")
    assert verdict["cause"] == "The password or secret given for token 'ci-token' is wrong."
    assert verdict["fix"] == f"berth acr token credential generate -r {REGISTRY} -n ci-token --password1"

    health = check_health(stage, "-n", REGISTRY, "-u", "ci-token", "-p", WRONG)
    assert health.code == 1
    assert health.explained == ["WRONG_SECRET"]

    event = one_event(stage.wait_events(REGISTRY, identity="ci-token"))
    assert (event["Reason"], event["IdentityKind"]) == ("bad_secret", "token")
    stage.assert_no_secrets(REGISTRY)


def test_wrong_service_principal_secret(stage: Stage, registry: str) -> None:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", "ci-sp", "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    app_id = sp["appId"]
    error = _docker_login(stage, registry, app_id, WRONG, "sp")
    assert "Application not registered with AAD" in error, error

    found = diagnose(stage, REGISTRY, "--identity", app_id)
    verdict = found.verdict("WRONG_SECRET")
    assert verdict["cause"] == f"The password or secret given for service principal '{app_id}' is wrong."
    assert verdict["fix"] == f"berth ad sp credential reset --id {app_id}"

    health = check_health(stage, "-n", REGISTRY, "-u", app_id, "-p", WRONG)
    assert health.explained == ["WRONG_SECRET"]
    event = one_event(stage.wait_events(REGISTRY, identity=app_id))
    assert (event["Reason"], event["IdentityKind"]) == ("bad_secret", "service_principal")
    stage.assert_no_secrets(REGISTRY)


def test_unknown_user_name(stage: Stage, registry: str) -> None:
    error = _docker_login(stage, registry, "my-subscription-id", WRONG, "unknown")
    assert "Application not registered with AAD" in error, error

    found = diagnose(stage, REGISTRY, "--identity", "my-subscription-id", "--error", error)
    assert "unknown_identity" in found.possible_causes()  # the check that tells it apart
    verdict = found.verdict("UNKNOWN_IDENTITY")
    assert "'my-subscription-id' is neither a token of registry badcreds" in verdict["cause"]
    assert "berth ad sp list -o table" in verdict["fix"]

    event = one_event(stage.wait_events(REGISTRY, identity="my-subscription-id"))
    assert event["Reason"] == "unknown_identity"
    assert event["IdentityKind"] == "unknown"
    stage.assert_no_secrets(REGISTRY)
