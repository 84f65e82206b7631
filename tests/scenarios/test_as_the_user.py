"""The seed's credential cases run twice: as the user who hit them — a CI job with docker and a
credential, no berth sign-in, addressing the login server it knows — and as the registry's
owner. Each asserts the first verdict, that the printed fix is the exact command, that the
command runs (the owner runs it) and that afterwards the user gets in. The user learns expired,
disabled, network and scope causes; an unknown user name and a wrong secret stay one answer
(WRONG_CREDENTIALS) for the user, while the owner sees which (docs/troubleshooting.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, Health, check_health, diagnose, run_printed
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("selfreg",)
REGISTRY = "selfreg"
USER = "ci-job"  # a berth config dir without a session: the docker-only user


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    login_server = stage.create_registry(REGISTRY)
    owner_docker = stage.docker_config("self-owner")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=owner_docker)
    stage.push_image(login_server, "app", owner_docker)
    stage.push_image(login_server, "other", owner_docker)
    return login_server


def _as_user(stage: Stage, registry: str, *args: str) -> Health:
    """check-health as the CI job: -n is the login server it addressed (a URL: berth is plain HTTP)."""
    return check_health(stage, "-n", f"http://{registry}", "--ignore-errors", *args, identity=USER)


def _token(stage: Stage, name: str, *flags: str) -> str:
    created = stage.berth_json("acr", "token", "create", "-n", name, "-r", REGISTRY, *flags)
    passwords = [p["value"] for p in created["credentials"]["passwords"]]
    stage.remember(*passwords)
    return str(passwords[0])


def _told(health: Health) -> dict[str, Any]:
    """The explanation check-health got for its rejected request, from the correlation id alone."""
    explained = health.report.get("explanations") or []
    assert explained, f"no explanation: {health.report}"
    first: dict[str, Any] = explained[0]
    assert first["facts"]["source"] == "answer to the request's correlation id"
    return first


def test_unknown_user_name_and_wrong_secret_are_one_answer_to_the_user(stage: Stage, registry: str) -> None:
    _token(stage, "ci-token", "--repository", "app", "content/read")
    config = stage.docker_config("wrong-secret")
    wrong = stage.docker("login", registry, "-u", "ci-token", "--password-stdin", docker_config=config,
                         stdin="not-the-password")  # fmt: skip
    assert wrong.returncode != 0
    answers = []
    correlation_ids = []
    for username in ("ci-token", "no-such-token"):
        health = _as_user(stage, registry, "-u", username, "-p", "not-the-password")
        rejected = health.finding("CREDENTIALS_REJECTED")
        assert rejected["fix"].startswith(f"berth acr diagnose -n http://{registry} --correlation-id ")
        told = _told(health)
        assert told["code"] == "WRONG_CREDENTIALS"
        answers.append(told["cause"])
        correlation_ids.append(rejected["facts"]["correlation_id"])
        # The printed command runs for the user (no sign-in) and says the same.
        shown = run_printed(stage, rejected["fix"], identity=USER)
        assert "Cause (certain): WRONG_CREDENTIALS" in shown
    assert answers[0] == answers[1]  # nothing tells a wrong secret from an unknown name

    owner = diagnose(stage, REGISTRY, "--error", wrong.stderr, "--since", "10m")
    assert owner.verdicts[0]["code"] == "WRONG_SECRET"  # the owner sees which
    assert (
        owner.verdicts[0]["fix"]
        == f"berth acr token credential generate -r {REGISTRY} -n ci-token --password1"
    )
    # check-health's probes are left out of the ranking; by correlation id the owner sees each exactly.
    assert all("berth-check-health" not in v["evidence"].get("user_agent", "") for v in owner.verdicts)
    unknown = diagnose(stage, REGISTRY, "--correlation-id", correlation_ids[1])
    assert (unknown.verdicts[0]["code"], unknown.verdicts[0]["certainty"]) == ("UNKNOWN_IDENTITY", "certain")
    wrong_secret = diagnose(stage, REGISTRY, "--correlation-id", correlation_ids[0])
    assert wrong_secret.verdicts[0]["code"] == "WRONG_SECRET"


def test_expired_token_password_is_told_and_fixed(stage: Stage, registry: str) -> None:
    expiry = time.time() + 15
    end = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    password = _token(stage, "short-token", "--repository", "app", "content/read", "--expiration", end)
    time.sleep(max(0.0, expiry - time.time()) + 1.5)
    config = stage.docker_config("short-token")
    login = stage.docker("login", registry, "-u", "short-token", "--password-stdin", docker_config=config,
                         stdin=password)  # fmt: skip
    assert AUTH_REQUIRED in login.stderr or "Application not registered" in login.stderr, login.stderr

    told = _told(_as_user(stage, registry, "-u", "short-token", "-p", password))
    assert told["code"] == "CREDENTIAL_EXPIRED"
    assert told["cause"] == f"The password1 of token 'short-token' expired on {end}."
    fix = f"berth acr token credential generate -r {REGISTRY} -n short-token --password1"
    assert told["fix"] == fix
    owner = diagnose(stage, REGISTRY, "--identity", "short-token", "--error", login.stderr)
    assert (owner.verdicts[0]["code"], owner.verdicts[0]["fix"]) == ("CREDENTIAL_EXPIRED", fix)

    renewed = stage.berth_json(*fix.split()[1:])  # the owner runs the fix
    fresh = renewed["passwords"][0]["value"]
    stage.remember(fresh)
    stage.docker_ok(
        "login", registry, "-u", "short-token", "--password-stdin", docker_config=config, stdin=fresh
    )


def test_disabled_token_is_told_and_fixed(stage: Stage, registry: str) -> None:
    password = _token(stage, "off-token", "--repository", "app", "content/read")
    stage.berth("acr", "token", "update", "-r", REGISTRY, "-n", "off-token", "--status", "disabled")
    config = stage.docker_config("off-token")
    login = stage.docker("login", registry, "-u", "off-token", "--password-stdin", docker_config=config,
                         stdin=password)  # fmt: skip
    assert login.returncode != 0

    found = diagnose(stage, REGISTRY, "--error", AUTH_REQUIRED)
    assert "IDENTITY_DISABLED" in found.possible_causes()  # the text alone already lists it
    told = _told(_as_user(stage, registry, "-u", "off-token", "-p", password))
    assert told["code"] == "IDENTITY_DISABLED"
    fix = f"berth acr token update -r {REGISTRY} -n off-token --status enabled"
    assert told["fix"] == fix
    owner = diagnose(stage, REGISTRY, "--identity", "off-token", "--error", login.stderr)
    assert (owner.verdicts[0]["code"], owner.verdicts[0]["certainty"]) == ("IDENTITY_DISABLED", "likely")
    run_printed(stage, fix)
    stage.docker_ok(
        "login", registry, "-u", "off-token", "--password-stdin", docker_config=config, stdin=password
    )


def test_token_scope_gap_shows_at_once_and_its_fix_works(stage: Stage, registry: str) -> None:
    password = _token(stage, "app-reader", "--repository", "app", "content/read")
    config = stage.docker_config("app-reader")
    stage.docker_ok(
        "login", registry, "-u", "app-reader", "--password-stdin", docker_config=config, stdin=password
    )
    pulled = stage.docker("pull", f"{registry}/other:v1", docker_config=config)
    assert pulled.returncode != 0

    plain = _as_user(stage, registry, "-u", "app-reader", "-p", password)
    assert plain.code == 0
    may = [f["message"] for f in plain.report["findings"] if "may on registry" in f["message"]]
    assert may == [
        f"Token 'app-reader' (scope map app-reader-scope-map) may on registry '{registry}': pull on app; "
        "nothing on other repositories"
    ]
    health = _as_user(stage, registry, "-u", "app-reader", "-p", password, "--repository", "other")
    fix = health.finding("CONNECTIVITY_ACCESS_TOKEN_ERROR")["fix"]
    assert fix.startswith(
        f"berth acr scope-map update -r {REGISTRY} -n app-reader-scope-map --add-repository other"
    )
    owner = diagnose(stage, REGISTRY, "--identity", "app-reader", "--error", pulled.stderr)
    assert owner.verdicts[0]["code"] == "NOT_AUTHORIZED"
    # The CI job explains its own failed pull with the same credentials (no sign-in, no Reader).
    mine = diagnose(stage, f"http://{registry}", "-u", "app-reader", "-p", password, "--error", pulled.stderr,
                    "--since", "10m", identity=USER)  # fmt: skip
    assert mine.verdicts[0]["code"] == "NOT_AUTHORIZED"
    expected = f"berth acr scope-map update -r {REGISTRY} -n app-reader-scope-map --add-repository other"
    assert mine.verdicts[0]["fix"] == owner.verdicts[0]["fix"] == f"{expected} content/read"
    run_printed(stage, fix)
    stage.docker_ok("pull", f"{registry}/other:v1", docker_config=config)


def test_acr_pull_service_principal_learns_it_may_not_push(stage: Stage, registry: str) -> None:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp = stage.berth_json("ad", "sp", "create-for-rbac", "-n", "self-puller", "--role", "AcrPull",
                          "--scopes", registry_id)  # fmt: skip
    stage.remember(sp["password"])
    app_id = sp["appId"]
    plain = _as_user(stage, registry, "-u", app_id, "-p", sp["password"])
    assert plain.code == 0
    may = [f["message"] for f in plain.report["findings"] if "may on registry" in f["message"]]
    assert len(may) == 1, plain.report
    assert may[0].endswith("metadata_read, pull on every repository (not push, delete); list the catalog")

    health = _as_user(stage, registry, "-u", app_id, "-p", sp["password"], "--repository", "app")
    fix = health.finding("CONNECTIVITY_ACCESS_TOKEN_ERROR")["fix"]
    shell_id = f"$(berth acr show -n {REGISTRY} --query id -o tsv)"
    assert fix == (
        f"berth role assignment create --assignee {app_id} --role AcrPush --scope {shell_id}; "
        f"berth role assignment create --assignee {app_id} --role AcrDelete --scope {shell_id}"
    )
    run_printed(stage, fix)  # the owner runs it (a shell fills the registry id)
    again = _as_user(stage, registry, "-u", app_id, "-p", sp["password"], "--repository", "app")
    assert "CONNECTIVITY_ACCESS_TOKEN_ERROR" not in again.codes, again.report


def test_public_network_access_disabled_is_said_first(stage: Stage, registry: str) -> None:
    stage.berth("acr", "update", "-n", REGISTRY, "--public-network-enabled", "false")
    try:
        config = stage.docker_config("public-off")
        login = stage.docker(
            "login", registry, "-u", "x", "--password-stdin", docker_config=config, stdin="y"
        )
        assert "403 Forbidden" in login.stderr, login.stderr
        user = _as_user(stage, registry)
        assert user.codes[-1] == "CONNECTIVITY_FORBIDDEN_ERROR"  # the wire cannot tell the two apart
        assert _told(user)["code"] == "PUBLIC_ACCESS_DISABLED"  # the correlation id can
        owner = check_health(stage, "-n", REGISTRY, "--ignore-errors")
        assert owner.codes[-1] == "PUBLIC_ACCESS_DISABLED"
        fix = owner.finding("PUBLIC_ACCESS_DISABLED")["fix"]
        # Disabling public access also set the default action to Deny: the fix lets this client in too.
        assert fix == (
            f"berth acr update -n {REGISTRY} --public-network-enabled true; "
            f"berth acr network-rule add -n {REGISTRY} --ip-address 127.0.0.1"
        )
        found = diagnose(stage, REGISTRY, "--error", login.stderr, "--since", "10m")
        assert (found.verdicts[0]["code"], found.verdicts[0]["fix"]) == ("PUBLIC_ACCESS_DISABLED", fix)
        assert found.document["symptoms"][0]["possibleCauses"][0]["codes"] == ["PUBLIC_ACCESS_DISABLED"]
        run_printed(stage, fix)
    finally:
        stage.berth(
            "acr", "update", "-n", REGISTRY, "--public-network-enabled", "true", "--default-action", "Allow"
        )
    deadline = time.monotonic() + 15  # the service re-reads a registry's settings within seconds
    while "CONNECTIVITY_FORBIDDEN_ERROR" in _as_user(stage, registry).codes and time.monotonic() < deadline:
        time.sleep(1)
    assert "CONNECTIVITY_FORBIDDEN_ERROR" not in _as_user(stage, registry).codes
    stage.assert_no_secrets(REGISTRY)
