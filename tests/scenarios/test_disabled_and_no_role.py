"""Two more faces of the seed's "credentials are not valid / not authorized": a service
principal that was disabled, and one whose role assignment was removed. The owner makes both
faults with the CLI; docker shows the symptom; check-health (signed in as that principal) and
diagnose name the cause and the command that undoes it; the login event keeps the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, check_health, diagnose, one_event, run_printed
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


def test_user_disabled_after_acr_login(stage: Stage, registry: str) -> None:
    """The user's own diagnose explains instead of failing on its refused sign-in; the owner's
    names IDENTITY_DISABLED and the command that undoes it."""
    upn = f"gone@{stage.domain}"
    password = "gone-user-password-1"
    stage.remember(password)
    stage.berth("ad", "user", "create", "--display-name", "gone", "--password", password,
                "--user-principal-name", upn)  # fmt: skip
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    stage.berth(
        "role", "assignment", "create", "--assignee", upn, "--role", "AcrPull", "--scope", registry_id
    )
    stage.sign_in("gone", upn, password)
    config = stage.docker_config("gone")
    stage.berth("acr", "login", "-n", REGISTRY, identity="gone", docker_config=config)
    stage.berth("ad", "user", "update", "--id", upn, "--account-enabled", "false")
    pulled = stage.docker("pull", f"{registry}/app:v1", docker_config=config)
    assert pulled.returncode != 0

    mine = diagnose(stage, REGISTRY, "--error", pulled.stderr, identity="gone")
    assert mine.text.startswith(f"Your own berth sign-in ({upn}) is refused"), mine.text
    assert f"berth ad user update --id {upn} --account-enabled true" in mine.text
    assert "IDENTITY_DISABLED" in mine.possible_causes()

    owner = diagnose(stage, REGISTRY, "--identity", upn, "--error", pulled.stderr)
    verdict = owner.verdicts[0]
    assert verdict["code"] == "IDENTITY_DISABLED"
    assert verdict["fix"] == f"berth ad user update --id {upn} --account-enabled true"
    run_printed(stage, verdict["fix"])
    stage.sign_in("gone", upn, password)
    stage.berth("acr", "login", "-n", REGISTRY, identity="gone", docker_config=config)  # the fix works
