"""Seed cause "the credentials are not authorized for push, pull or management operations":
an AcrPull service principal pushing, a token for repository A pulling repository B, and an
AcrPull user trying to manage the registry (``berth acr update``)."""

from __future__ import annotations

import pytest

from tests.scenarios.checks import DENIED, check_health, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("authz",)
REGISTRY = "authz"


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    login_server = stage.create_registry(REGISTRY)
    owner_docker = stage.docker_config("owner")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=owner_docker)
    stage.push_image(login_server, "repoa", owner_docker)
    stage.push_image(login_server, "repob", owner_docker)
    return login_server


def _registry_id(stage: Stage) -> str:
    return stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()


def test_acr_pull_identity_pushing(stage: Stage, registry: str) -> None:
    registry_id = _registry_id(stage)
    sp = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", "puller", "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    app_id = sp["appId"]
    config = stage.docker_config("puller")
    stage.docker_ok(
        "login", registry, "-u", app_id, "--password-stdin", docker_config=config, stdin=sp["password"]
    )
    stage.docker_ok("pull", f"{registry}/repoa:v1", docker_config=config)
    stage.docker_ok("tag", f"{registry}/repoa:v1", f"{registry}/repoa:v2", docker_config=config)
    pushed = stage.docker("push", f"{registry}/repoa:v2", docker_config=config)
    assert pushed.returncode != 0
    assert DENIED in pushed.stderr, pushed.stderr

    health = check_health(stage, "-n", REGISTRY, "-u", app_id, "-p", sp["password"], "--repository", "repoa")
    assert health.code == 1
    access = health.finding("CONNECTIVITY_ACCESS_TOKEN_ERROR")
    assert "pull permissions to repository repoa" in access["cause"]
    assert "you lack push, metadata_write, delete" in access["cause"]

    found = diagnose(stage, REGISTRY, "--identity", app_id, "--error", pushed.stderr)
    verdict = found.verdict("NOT_AUTHORIZED")
    assert verdict["cause"].startswith(f"Service principal '{app_id}' is not authorized")
    assert "repository:repoa:push" in verdict["cause"]
    assert (
        verdict["fix"]
        == f"berth role assignment create --assignee {app_id} --role AcrPush --scope {registry_id}"
    )

    event = one_event(stage.wait_events(REGISTRY, identity=app_id, reason="insufficient_scope"))
    assert event["IdentityKind"] == "service_principal"
    assert "push" in event["RequestedScopes"]
    stage.assert_no_secrets(REGISTRY)


def test_token_for_repository_a_pulling_repository_b(stage: Stage, registry: str) -> None:
    created = stage.berth_json(
        "acr",
        "token",
        "create",
        "-n",
        "repoa-reader",
        "-r",
        REGISTRY,
        "--repository",
        "repoa",
        "content/read",
    )
    password = created["credentials"]["passwords"][0]["value"]
    stage.remember(*(p["value"] for p in created["credentials"]["passwords"]))
    config = stage.docker_config("repoa-reader")
    stage.docker_ok(
        "login", registry, "-u", "repoa-reader", "--password-stdin", docker_config=config, stdin=password
    )
    stage.docker_ok("pull", f"{registry}/repoa:v1", docker_config=config)
    pulled = stage.docker("pull", f"{registry}/repob:v1", docker_config=config)
    assert pulled.returncode != 0
    assert f"pull access denied for {registry}/repob" in pulled.stderr, pulled.stderr
    assert DENIED in pulled.stderr, pulled.stderr

    health = check_health(
        stage, "-n", REGISTRY, "-u", "repoa-reader", "-p", password, "--repository", "repob"
    )
    assert health.code == 1
    assert (
        "You have no permissions to repository repob"
        in health.finding("CONNECTIVITY_ACCESS_TOKEN_ERROR")["cause"]
    )

    found = diagnose(stage, REGISTRY, "--identity", "repoa-reader")
    verdict = found.verdict("NOT_AUTHORIZED")
    assert "repository:repob:pull" in verdict["cause"]
    scope_map = "repoa-reader-scope-map"
    assert (
        verdict["fix"]
        == f"berth acr scope-map update -r {REGISTRY} -n {scope_map} --add-repository repob content/read"
    )
    event = one_event(stage.wait_events(REGISTRY, identity="repoa-reader", reason="insufficient_scope"))
    assert event["IdentityKind"] == "token"
    stage.assert_no_secrets(REGISTRY)


def test_acr_pull_user_managing_the_registry(stage: Stage, registry: str) -> None:
    upn = f"puller@{stage.domain}"
    password = "puller-password-123"
    stage.remember(password)
    stage.berth(
        "ad",
        "user",
        "create",
        "--display-name",
        "puller",
        "--password",
        password,
        "--user-principal-name",
        upn,
    )
    registry_id = _registry_id(stage)
    stage.berth(
        "role", "assignment", "create", "--assignee", upn, "--role", "AcrPull", "--scope", registry_id
    )
    stage.sign_in("puller", upn, password)

    updated = stage.berth("acr", "update", "-n", REGISTRY, "-g", "scenarios", "--admin-enabled", "true",
                          identity="puller", check=False)  # fmt: skip
    assert updated.returncode != 0
    assert "AuthorizationFailed" in updated.stderr, updated.stderr

    found = diagnose(stage, REGISTRY, "--error", updated.stderr)
    assert found.symptoms[0] == "Not authorized to manage the registry"
    assert "berth role assignment create --assignee <id> --role Contributor" in found.possible_causes()
    # The user who hit it runs diagnose too: the fix names them.
    mine = diagnose(stage, REGISTRY, "--error", updated.stderr, identity="puller")
    assert mine.symptoms[0] == "Not authorized to manage the registry"
    assert f"berth role assignment create --assignee {upn} --role Contributor" in mine.possible_causes()

    # The user's data-plane access works: check-health as that user passes the registry chain.
    health = check_health(stage, "-n", REGISTRY, identity="puller")
    assert "REGISTRY_LOOKUP_WARNING" in health.codes  # AcrPull may not read the resource
    assert health.code == 0, health.report
    # Management refusals are not login attempts: no failed login of the user is recorded.
    assert stage.events(REGISTRY, identity=upn, status="failed") == []
    stage.assert_no_secrets(REGISTRY)
