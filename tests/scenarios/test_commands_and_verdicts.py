"""What the troubleshooters print must hold up: every Check command diagnose prints runs and
shows what it promises; the first verdict is the one that explains the error (not the anonymous
echo docker makes after a rejected login, nor check-health's own probes); and the cases that had
no answer before — a login server given as the name, a registry that does not exist, a service
that is not listening, a repository without ``latest``, ResourceNotFound for an AcrPull user."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, check_health, diagnose, printed_commands, run_printed
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("cmdreg", "nosuchcmd")
REGISTRY = "cmdreg"

# One error text per symptom diagnose knows (as docker, az or berth print them).
ERRORS = (
    "Error response from daemon: login attempt to http://x/v2/ failed with status: 403 Forbidden",
    AUTH_REQUIRED,
    "unauthorized: Application not registered with AAD.",
    "denied: retrieving permissions failed",
    "denied: requested access to the resource is denied",
    "toomanyrequests: too many failed login attempts",
    "Get http://x/v2/: dial tcp 127.0.0.1:1: connect: connection refused",
    "(ResourceNotFound) The resource with name 'cmdreg' could not be found in subscription",
    "(AuthorizationFailed) The client 'x' does not have authorization to perform action",
    "Error response from daemon: login attempt to http://x/v2/ failed with status: 404 Not Found",
)


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    login_server = stage.create_registry(REGISTRY, "--admin-enabled", "true")
    owner_docker = stage.docker_config("cmd-owner")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=owner_docker)
    stage.push_image(login_server, "app", owner_docker)  # tag v1 only: no latest
    return login_server


def test_every_printed_check_runs_and_shows_what_it_promises(stage: Stage, registry: str) -> None:
    _ = stage.berth_json("acr", "token", "create", "-n", "chk-token", "-r", REGISTRY, "--repository", "app",
                         "content/read")  # fmt: skip
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", "chk-sp", "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    fill = {"<token>": "chk-token", "<appId>": sp["appId"], "<upn>": stage.owner}
    config = stage.docker_config("chk-failed")  # a failed login, so the logs check has one to show
    failed = stage.docker(
        "login", registry, "-u", "chk-token", "--password-stdin", docker_config=config, stdin="no"
    )
    assert failed.returncode != 0
    stage.wait_events(REGISTRY, identity="chk-token")
    ran = set()
    for error in ERRORS:
        found = diagnose(stage, REGISTRY, "--error", error, "--identity", stage.owner)
        for symptom in found.document["symptoms"]:
            for cause in symptom["possibleCauses"]:
                check = cause["check"]
                for command in printed_commands(check, fill):
                    if command in ran or "check-health" in command or command.startswith("curl"):
                        continue
                    ran.add(command)
                    shown = run_printed(stage, command, fill=fill).strip()
                    assert shown, f"{command} printed nothing"
    # What the commands promise: the properties the causes name.
    assert run_printed(stage, f"berth acr show -n {REGISTRY} --query adminUserEnabled").strip() == "true"
    assert (
        run_printed(stage, f"berth acr show -n {REGISTRY} --query publicNetworkAccess").strip() == '"Enabled"'
    )
    assert run_printed(stage, f"berth acr show -n {REGISTRY} --query loginServer").strip() == f'"{registry}"'
    assert '"defaultAction"' in run_printed(stage, f"berth acr show -n {REGISTRY} --query networkRuleSet")
    assert run_printed(stage, f"berth acr token show -r {REGISTRY} -n chk-token --query status").strip() == (
        '"enabled"'
    )
    assert run_printed(stage, f"berth ad sp show --id {sp['appId']} --query accountEnabled").strip() == "true"
    refused = diagnose(stage, REGISTRY, "--error", ERRORS[6]).document["symptoms"][0]["possibleCauses"][0]
    curl = next(c for c in printed_commands(refused["check"]) if c.startswith("curl"))
    assert curl == f"curl -sS -o /dev/null -w '%{{http_code}}' http://{registry}/v2/"
    assert run_printed(stage, curl) == "401"  # berth listens there


def test_first_verdict_is_the_cause_not_the_anonymous_echo(stage: Stage, registry: str) -> None:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp = stage.berth_json("ad", "sp", "create-for-rbac", "-n", "echo-sp", "--role", "AcrPull",
                          "--scopes", registry_id)  # fmt: skip
    app_id = sp["appId"]
    end = datetime.fromtimestamp(time.time() + 3, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    secret = stage.berth_json("ad", "sp", "credential", "reset", "--id", app_id, "--end-date", end)[
        "password"
    ]
    stage.remember(sp["password"], secret)
    time.sleep(5)
    config = stage.docker_config("echo")
    login = stage.docker(
        "login", registry, "-u", app_id, "--password-stdin", docker_config=config, stdin=secret
    )
    assert login.returncode != 0
    pulled = stage.docker("pull", f"{registry}/app:v1", docker_config=config)  # anonymous, after the failure
    assert pulled.returncode != 0
    check_health(stage, "-n", REGISTRY, "--ignore-errors", docker_config=config)  # its probes come last

    found = diagnose(stage, REGISTRY, "--error", AUTH_REQUIRED, "--since", "10m")
    first = found.verdicts[0]
    assert (first["code"], first["certainty"]) == ("CREDENTIAL_EXPIRED", "likely")
    assert first["fix"] == f"berth ad sp credential reset --id {app_id}"
    assert "ANONYMOUS_PULL_DISABLED" in found.verdict_codes[1:]
    assert "Cause (likely): CREDENTIAL_EXPIRED" in found.text.split("Failed login")[1]
    probes = [v for v in found.verdicts if "berth-check-health" in v["evidence"].get("user_agent", "")]
    assert probes == []


def test_login_with_the_login_server_or_a_missing_registry(stage: Stage, registry: str) -> None:
    config = stage.docker_config("login-server")
    by_server = stage.berth("acr", "login", "-n", registry, docker_config=config)
    suffix = registry[len(REGISTRY) :]
    assert (
        f"WARNING: The login server endpoint suffix '{suffix}' is automatically omitted." in by_server.stderr
    )
    by_host = stage.berth("acr", "login", "-n", f"{REGISTRY}.{stage.domain}", docker_config=config)
    assert "Traceback" not in by_host.stderr

    missing = stage.berth("acr", "login", "-n", "nosuchcmd", docker_config=config, check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("ERROR: The registry 'nosuchcmd' does not exist on this service"), (
        missing.stderr
    )
    assert missing.stderr.rstrip().endswith("Check the name: berth acr list -o table")
    assert "nosuchcmd" not in run_printed(stage, "berth acr list -o table")


def test_connection_refused_names_the_service_not_running(stage: Stage, registry: str) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    target = f"http://{REGISTRY}.{stage.domain}:{port}"
    health = check_health(stage, "-n", target)
    refused = health.finding("CONNECTIVITY_REFUSED_ERROR")
    assert "the berth service is not running" in refused["cause"]
    assert refused["fix"].endswith(f"{target[len('http://') :]}/v2/ must answer 401.")
    assert f"{target}/v2/" in refused["fix"]
    found = diagnose(stage, REGISTRY, "--error", ERRORS[6])
    assert found.symptoms[0] == "Connection refused: nothing listens at the login server"


def test_repository_without_latest(stage: Stage, registry: str) -> None:
    owner_docker = stage.docker_config("cmd-owner")  # logged in by the module's fixture
    health = check_health(stage, "-n", REGISTRY, "--repository", "app", "--yes", docker_config=owner_docker)
    assert "DOCKER_PULL_ERROR" not in health.codes, health.report
    assert f"Docker pull of '{registry}/app:v1' : OK" in [f["message"] for f in health.report["findings"]]
    tagged = check_health(
        stage, "-n", REGISTRY, "--repository", "app", "--tag", "v1", "--yes", docker_config=owner_docker
    )
    assert tagged.code == 0, tagged.report


def test_resource_not_found_for_an_acr_pull_user(stage: Stage, registry: str) -> None:
    upn = f"cmd-puller@{stage.domain}"
    stage.remember("cmd-puller-password-1")
    stage.berth("ad", "user", "create", "--display-name", "cmd-puller", "--password", "cmd-puller-password-1",
                "--user-principal-name", upn)  # fmt: skip
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    stage.berth(
        "role", "assignment", "create", "--assignee", upn, "--role", "AcrPull", "--scope", registry_id
    )
    stage.sign_in("cmd-puller", upn, "cmd-puller-password-1")
    shown = stage.berth("acr", "show", "-n", REGISTRY, identity="cmd-puller", check=False)
    assert "ResourceNotFound" in shown.stderr, shown.stderr

    found = diagnose(stage, REGISTRY, "--error", shown.stderr, identity="cmd-puller")
    assert found.symptoms[0] == "The registry was not found by the management API"
    cause = found.document["symptoms"][0]["possibleCauses"][0]
    assert "or it exists and you have no Reader, Contributor or Owner role on it" in cause["cause"]
    assert f"--assignee {upn} --role Reader" in cause["fix"]
    listed = run_printed(stage, f"berth role assignment list --assignee {upn} --all -o table")
    assert "AcrPull" in listed  # the owner tells the two apart
    run_printed(stage, cause["fix"])  # the owner grants Reader (a shell fills the registry id)
    assert stage.berth("acr", "show", "-n", REGISTRY, identity="cmd-puller").returncode == 0
