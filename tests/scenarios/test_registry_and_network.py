"""Seed causes about the registry itself: a wrong registry name (no such registry, or a name
that does not resolve), an upper-case registry name, a firewall that refuses the client (403),
and stale docker credentials that block anonymous pull."""

from __future__ import annotations

import pytest

from tests.scenarios.checks import AUTH_REQUIRED, check_health, check_health_text, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("casereg", "fwreg", "anonreg", "nosuchreg")


def test_wrong_registry_name(stage: Stage) -> None:
    """``nosuchreg`` resolves (wildcard DNS) but is no registry; ``typoreg`` does not resolve."""
    config = stage.docker_config("wrong-name")
    login = stage.docker("login", stage.login_server("nosuchreg"), "-u", "someone", "--password-stdin",
                         docker_config=config, stdin="whatever")  # fmt: skip
    assert login.returncode != 0
    assert "404" in login.stderr, login.stderr

    health = check_health(stage, "-n", "nosuchreg")
    assert health.code == 1
    assert health.codes[-2:] == ["REGISTRY_LOOKUP_WARNING", "UNKNOWN_REGISTRY"]
    assert "No registry named 'nosuchreg'" in health.finding("UNKNOWN_REGISTRY")["cause"]
    assert "berth acr list -o table" in health.finding("UNKNOWN_REGISTRY")["fix"]

    typo = check_health(stage, "-n", "typoreg")
    assert typo.codes[-1] == "CONNECTIVITY_DNS_ERROR"

    # The user who typed the login server, without a berth sign-in, hears the same.
    user = check_health(stage, "-n", f"http://{stage.login_server('nosuchreg')}", identity="ci-nosuch")
    assert user.codes[-1] == "UNKNOWN_REGISTRY"

    found = diagnose(stage, "nosuchreg", "--error", login.stderr)
    assert "The registry does not exist" in found.symptoms
    assert "berth acr list -o table" in found.text
    # No registry, no event: the logs of a registry that does not exist cannot be asked for.
    missing = stage.berth("acr", "logs", "login", "-n", "nosuchreg", check=False)
    assert missing.returncode == 3
    assert "ResourceNotFound" in missing.stderr


def test_upper_case_registry_name(stage: Stage) -> None:
    login_server = stage.create_registry("casereg", "--admin-enabled", "true")
    password = stage.berth_json("acr", "credential", "show", "-n", "casereg")["passwords"][0]["value"]
    stage.remember(password)
    config = stage.docker_config("upper")
    upper = login_server.replace("casereg", "CaseReg")
    stage.docker_ok("login", upper, "-u", "casereg", "--password-stdin", docker_config=config, stdin=password)
    stage.docker_ok("tag", "local/scenario:v1", f"{login_server}/app:v1", docker_config=config)
    pushed = stage.docker("push", f"{login_server}/app:v1", docker_config=config)
    assert pushed.returncode != 0
    assert AUTH_REQUIRED in pushed.stderr, pushed.stderr

    health = check_health(stage, "-n", "CaseReg", docker_config=config)
    assert health.code == 0  # warnings only: the chain itself works
    assert "REGISTRY_NAME_CASE_WARNING" in health.codes
    case = health.finding("DOCKER_CONFIG_HOST_CASE")
    assert upper in case["cause"]
    assert case["fix"] == f"docker logout {upper} && berth acr login -n CaseReg (always use lower case)"

    found = diagnose(stage, "casereg", "--since", "10m", "--error", pushed.stderr)
    assert "DOCKER_CONFIG_HOST_CASE" in found.possible_causes()
    verdict = found.verdict("ANONYMOUS_PULL_DISABLED")
    assert verdict["fix"].startswith(f"docker login {login_server}  (exactly this host, lower case)")
    event = one_event(stage.wait_events("casereg", reason="anonymous_disabled"))
    assert event["IdentityKind"] == "anonymous"
    stage.assert_no_secrets("casereg")


def test_firewall_refuses_the_client(stage: Stage) -> None:
    login_server = stage.create_registry("fwreg")
    stage.berth("acr", "network-rule", "add", "-n", "fwreg", "--ip-address", "203.0.113.7")
    stage.berth("acr", "update", "-n", "fwreg", "--default-action", "Deny")
    config = stage.docker_config("firewall")
    login = stage.docker(
        "login", login_server, "-u", "fwreg", "--password-stdin", docker_config=config, stdin="x"
    )
    assert login.returncode != 0
    assert "403 Forbidden" in login.stderr, login.stderr

    code, text = check_health_text(stage, "-n", "fwreg")
    assert code == 1
    assert "An error occurred: CONNECTIVITY_FORBIDDEN_ERROR" in text
    assert "client IP 127.0.0.1 is not allowed" in text
    assert "Fix: berth acr network-rule add -n fwreg --ip-address 127.0.0.1" in text
    assert "Please refer to https://aka.ms/acr/health-check for more information." in text

    # The refused user (no sign-in) learns it too, by the correlation id of its refused request.
    user = check_health(stage, "-n", f"http://{login_server}", "--ignore-errors", identity="ci-fw")
    assert user.codes[-1] == "CONNECTIVITY_FORBIDDEN_ERROR"
    assert user.explained == ["FIREWALL"]
    assert user.finding("FIREWALL")["fix"] == "berth acr network-rule add -n fwreg --ip-address 127.0.0.1"

    found = diagnose(stage, "fwreg", "--error", login.stderr, "--since", "10m")
    assert found.symptoms[0] == "403 Forbidden from the registry (firewall)"
    verdict = found.verdict("FIREWALL")
    assert verdict["cause"] == "Client IP 127.0.0.1 is outside the registry's network rules."
    assert verdict["fix"] == "berth acr network-rule add -n fwreg --ip-address 127.0.0.1"
    event = one_event(stage.wait_events("fwreg", reason="ip_denied"))
    assert (event["CallerIpAddress"], event["ResultDescription"]) == ("127.0.0.1", "403")
    stage.assert_no_secrets("fwreg")


def test_stale_credentials_block_anonymous_pull(stage: Stage) -> None:
    login_server = stage.create_registry(
        "anonreg", "--admin-enabled", "true", "--anonymous-pull-enabled", "true"
    )
    password = stage.berth_json("acr", "credential", "show", "-n", "anonreg")["passwords"][0]["value"]
    stage.remember(password)
    config = stage.docker_config("stale")
    stage.docker_ok(
        "login", login_server, "-u", "anonreg", "--password-stdin", docker_config=config, stdin=password
    )
    reference = stage.push_image(login_server, "public", config)
    renewed = stage.berth_json("acr", "credential", "renew", "-n", "anonreg", "--password-name", "password")
    stage.remember(*(p["value"] for p in renewed["passwords"] if p.get("value")))
    stage.docker_ok("rmi", reference, docker_config=config)

    pulled = stage.docker("pull", reference, docker_config=config)
    assert pulled.returncode != 0
    health = check_health(stage, "-n", "anonreg", docker_config=config)
    assert health.code == 1
    stale = health.finding("DOCKER_CONFIG_STALE_CREDENTIALS")
    assert stale["fix"] == f"docker logout {login_server}"
    user = check_health(stage, "-n", f"http://{login_server}", identity="ci-stale", docker_config=config)
    assert user.finding("DOCKER_CONFIG_STALE_CREDENTIALS")["fix"] == f"docker logout {login_server}"

    found = diagnose(stage, "anonreg", "--since", "10m", "--error", pulled.stderr)
    verdict = found.verdict("DOCKER_CONFIG_STALE_CREDENTIALS")
    assert "allows anonymous pull" in verdict["cause"]
    assert verdict["fix"].startswith(f"docker logout {login_server}")
    event = one_event(stage.wait_events("anonreg", reason="bad_secret"))
    assert event["IdentityKind"] == "admin"

    stage.docker_ok("logout", login_server, docker_config=config)  # the fix works
    stage.docker_ok("pull", reference, docker_config=config)
    stage.assert_no_secrets("anonreg")
