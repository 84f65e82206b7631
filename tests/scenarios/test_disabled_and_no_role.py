"""Two more faces of the seed's "credentials are not valid / not authorized": a service
principal that was disabled, and one whose role assignment was removed. The owner makes both
faults with the CLI; docker shows the symptom; check-health (signed in as that principal) and
diagnose name the cause and the command that undoes it; the login event keeps the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, check_health, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("faultyids",)
REGISTRY = "faultyids"


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    return stage.create_registry(REGISTRY)


def _service_principal(stage: Stage, name: str) -> dict[str, Any]:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp: dict[str, Any] = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", name, "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    sp["registry_id"] = registry_id
    return sp


def _docker_login(stage: Stage, login_server: str, sp: dict[str, Any], name: str) -> str:
    config = stage.docker_config(name)
    result = stage.docker(
        "login",
        login_server,
        "-u",
        sp["appId"],
        "--password-stdin",
        docker_config=config,
        stdin=sp["password"],
    )
    return result.stderr if result.returncode else ""


def test_disabled_service_principal(stage: Stage, registry: str) -> None:
    sp = _service_principal(stage, "ci-disabled")
    app_id = sp["appId"]
    assert _docker_login(stage, registry, sp, "disabled-before") == ""  # works while enabled

    stage.berth("ad", "sp", "update", "--id", app_id, "--set", "accountEnabled=false")
    error = _docker_login(stage, registry, sp, "disabled-after")
    assert AUTH_REQUIRED in error, error

    found = diagnose(stage, REGISTRY, "--identity", app_id, "--error", error)
    verdict = found.verdict("IDENTITY_DISABLED")
    assert verdict["cause"] == f"Service principal {app_id} is disabled."
    assert verdict["fix"] == f"berth ad sp update --id {app_id} --set accountEnabled=true"

    health = check_health(stage, "-n", REGISTRY, "-u", app_id, "-p", sp["password"])
    assert health.code == 1
    assert health.explained == ["IDENTITY_DISABLED"]
    event = one_event(stage.wait_events(REGISTRY, identity=app_id, reason="identity_disabled"))
    assert event["IdentityKind"] == "service_principal"

    stage.berth("ad", "sp", "update", "--id", app_id, "--set", "accountEnabled=true")  # the fix works
    assert _docker_login(stage, registry, sp, "disabled-fixed") == ""
    stage.assert_no_secrets(REGISTRY)


def test_service_principal_without_a_role(stage: Stage, registry: str) -> None:
    sp = _service_principal(stage, "ci-no-role")
    app_id = sp["appId"]
    for assignment in stage.berth_json("role", "assignment", "list", "--assignee", app_id):
        stage.berth("role", "assignment", "delete", "--ids", assignment["id"])

    error = _docker_login(stage, registry, sp, "no-role")
    assert "denied: retrieving permissions failed" in error, error

    found = diagnose(stage, REGISTRY, "--identity", app_id, "--error", error)
    assert "retrieving permissions failed / refresh token denied" in found.symptoms
    verdict = found.verdict("NO_ROLE")
    assert f"has no role on registry {REGISTRY}" in verdict["cause"]
    assert verdict["fix"].startswith(
        f"berth role assignment create --assignee {app_id} --role AcrPull --scope "
    )

    event = one_event(stage.wait_events(REGISTRY, identity=app_id, reason="no_role"))
    assert (event["ResultDescription"], event["IdentityKind"]) == ("403", "service_principal")

    stage.berth(
        "role",
        "assignment",
        "create",
        "--assignee",
        app_id,
        "--role",
        "AcrPull",
        "--scope",
        sp["registry_id"],
    )
    assert _docker_login(stage, registry, sp, "no-role-fixed") == ""  # the fix works
    stage.assert_no_secrets(REGISTRY)
