"""The pure parts of the troubleshooter, with canned responses: the registry chain (a
request/response generator), verdicts from login events, symptoms from error text, and
check-health's ``--ignore-errors`` rules with a fake docker runner."""

from __future__ import annotations

import base64
import email.utils
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from berth.troubleshoot.docker_env import CommandResult, StoredCredential
from berth.troubleshoot.explain import RegistryFacts, explain, explain_all
from berth.troubleshoot.findings import Finding, Status
from berth.troubleshoot.health import HealthCheck, HealthRequest
from berth.troubleshoot.registry_chain import ChainInput, check_registry
from berth.troubleshoot.symptoms import match

LS = "reg.localhost:5000"
CHALLENGE = {"www-authenticate": f'Bearer realm="http://{LS}/oauth2/token",service="{LS}"'}
FACTS = RegistryFacts(
    "reg", "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/reg", LS
)


def _jwt(claims: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


def run_chain(inp: ChainInput, answer: Callable[[httpx.Request], httpx.Response]) -> list[Finding]:
    chain = check_registry(inp)
    request = next(chain)
    try:
        while True:
            request = chain.send(answer(request))
    except StopIteration as stop:
        return list(stop.value)


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings if f.code]


def test_firewall_403_names_the_client_ip() -> None:
    body = {"errors": [{"code": "DENIED", "message": "client with IP '203.0.113.7' is not allowed access."}]}
    findings = run_chain(ChainInput("reg", LS, "http"), lambda r: httpx.Response(403, json=body))
    assert _codes(findings) == ["CONNECTIVITY_FORBIDDEN_ERROR"]
    assert findings[-1].fix.startswith("berth acr network-rule add -n reg --ip-address 203.0.113.7")


def test_rejected_password_carries_the_correlation_id() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "nope"}]},
                              headers={"x-ms-correlation-request-id": "c-1"})  # fmt: skip

    findings = run_chain(ChainInput("reg", LS, "http", username="tok", password="pw"), answer)
    assert _codes(findings) == ["CREDENTIALS_REJECTED"]
    assert findings[-1].facts["correlation_id"] == "c-1"


def test_rate_limited_token_requests_name_the_wait() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        return httpx.Response(429, headers={"retry-after": "42"})

    with_password = run_chain(ChainInput("reg", LS, "http", username="u", password="p"), answer)
    exchanged = run_chain(ChainInput("reg", LS, "http", directory_token="t"), answer)
    for findings in (with_password, exchanged):
        assert _codes(findings) == ["CONNECTIVITY_TOOMANYREQUESTS_ERROR"]
        assert findings[-1].fix == "Wait 42 seconds, then retry with the correct credentials."


def test_missing_repository_actions_are_an_error_as_in_acr() -> None:
    token = _jwt({"access": [{"type": "repository", "name": "app", "actions": ["pull"]}]})

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        return httpx.Response(200, json={"access_token": token})

    findings = run_chain(ChainInput("reg", LS, "http", repository="app", username="u", password="p"), answer)
    problem = next(f for f in findings if f.code)
    assert (problem.status, problem.code) == (Status.ERROR, "CONNECTIVITY_ACCESS_TOKEN_ERROR")
    assert "you lack push, metadata_write, metadata_read, delete" in problem.cause
    # "u" is a token (not the registry name, not an app id): its scope map is what changes.
    assert problem.fix == (
        "berth acr scope-map update -r reg -n <the token's scope map> --add-repository app "
        "content/write metadata/write metadata/read content/delete"
    )
    known = ChainInput("reg", LS, "http", repository="app", username="u", password="p", token_scope_map="m")
    assert next(f for f in run_chain(known, answer) if f.code).fix.startswith(
        "berth acr scope-map update -r reg -n m --add-repository app content/write"
    )
    app_id = "0f1e2d3c-0000-4000-8000-000000000001"
    sp = ChainInput("reg", LS, "http", repository="app", username=app_id, password="p")
    assert next(f for f in run_chain(sp, answer) if f.code).fix == (
        f"berth role assignment create --assignee {app_id} --role AcrPush --scope <registry id>; "
        f"berth role assignment create --assignee {app_id} --role AcrDelete --scope <registry id>"
    )


def test_stale_stored_credentials_when_anonymous_pull_works() -> None:
    stored = StoredCredential("auths entry", "/tmp/config.json", LS, "reg", "old-password")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        if request.method == "POST":
            return httpx.Response(200, json={"access_token": _jwt({})})
        if "authorization" in request.headers:
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "bad"}]})
        return httpx.Response(200, json={"access_token": _jwt({})})

    inp = ChainInput("reg", LS, "http", username="u", password="p", stored=stored)
    assert _codes(run_chain(inp, answer)) == ["DOCKER_CONFIG_STALE_CREDENTIALS"]


def test_expired_identity_token_and_clock_skew() -> None:
    expired = _jwt({"exp": time.time() - 3600})
    stored = StoredCredential("auths entry", "/tmp/config.json", LS, identity_token=expired)
    skewed = {**CHALLENGE, "date": email.utils.formatdate(time.time() - 7200, usegmt=True)}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=skewed)
        return httpx.Response(200, json={"access_token": _jwt({})})

    findings = run_chain(ChainInput("reg", LS, "http", username="u", password="p", stored=stored), answer)
    # Two hours off still leaves the registry's tokens valid (it judges them by its own clock).
    assert _codes(findings) == ["CLOCK_SKEW_WARNING", "DOCKER_IDENTITY_TOKEN_EXPIRED"]
    assert findings[0].status is Status.WARNING
    assert 7100 < int(findings[0].facts["skew"]) < 7300
    assert findings[0].facts["margin"] in ("0 h 59 min", "1 h 0 min")

    far = {**CHALLENGE, "date": email.utils.formatdate(time.time() - 4 * 3600, usegmt=True)}
    beyond = run_chain(ChainInput("reg", LS, "http", username="u", password="p"), _answer_with(far))
    assert (beyond[0].code, beyond[0].status) == ("CLOCK_SKEW_ERROR", Status.ERROR)


def _answer_with(headers: dict[str, str]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=headers)
        return httpx.Response(200, json={"access_token": _jwt({})})

    return answer


def test_connection_refused_public_access_and_the_null_guid_rule() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("not reached")

    chain = check_registry(ChainInput("reg", LS, "http"))
    next(chain)
    try:
        chain.send(httpx.ConnectError("[Errno 111] Connection refused"))
    except StopIteration as stop:
        refused = stop.value[0]
    assert refused.code == "CONNECTIVITY_REFUSED_ERROR"
    assert "berth service is not running" in refused.cause
    assert refused.fix.endswith(f"http://{LS}/v2/ must answer 401.")

    body = {"errors": [{"code": "DENIED", "message": "client with IP '10.1.2.3' is not allowed access."}]}
    off = ChainInput("reg", LS, "http", public_access_disabled=True)
    found = run_chain(off, lambda r: httpx.Response(403, json=body))
    assert _codes(found) == ["PUBLIC_ACCESS_DISABLED"]
    assert found[0].fix == (
        "berth acr update -n reg --public-network-enabled true; "
        "berth acr network-rule add -n reg --ip-address 10.1.2.3"
    )

    with_token = ChainInput("reg", LS, "http", username="ci", password=_jwt({"sub": "x"}))
    assert _codes(run_chain(with_token, _answer_with(CHALLENGE))) == ["TOKEN_USERNAME_NOT_NULL_GUID"]


def test_plain_check_states_what_the_identity_may_do_and_repository_tags() -> None:
    repositories = [{"repository": "app", "actions": ["pull"]}]
    identity = {"identity": "ci", "identityKind": "token", "scopeMap": "ci-map", "repositories": repositories}
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        if request.url.path == "/acr/v1/_diagnostics/identity":
            return httpx.Response(200, json=identity)
        if request.url.path == "/v2/app/tags/list":
            return httpx.Response(200, json={"name": "app", "tags": ["v7"]})
        token = _jwt({"access": [{"type": "repository", "name": "app", "actions": ["pull"]}]})
        return httpx.Response(200, json={"access_token": token})

    plain = run_chain(ChainInput("reg", LS, "http", username="ci", password="p"), answer)
    assert plain[-1].message == (
        f"Token 'ci' (scope map ci-map) may on registry '{LS}': pull on app; nothing on other repositories"
    )
    identity["repositories"] = []
    nothing = run_chain(ChainInput("reg", LS, "http", username="ci", password="p"), answer)
    assert (nothing[-1].code, nothing[-1].status) == ("NO_PERMISSIONS", Status.WARNING)
    assert (
        nothing[-1].fix
        == "berth acr scope-map update -r reg -n ci-map --add-repository <repository> content/read"
    )

    repo = run_chain(ChainInput("reg", LS, "http", repository="app", username="ci", password="p"), answer)
    assert repo[-1].facts["tag"] == "v7"  # no "latest" assumed
    assert seen[-1].headers["authorization"].startswith("Bearer ")


def test_not_signed_in_checks_docker_credentials_instead() -> None:
    stored = StoredCredential("auths entry", "/tmp/config.json", LS, "reg", "pw")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        return httpx.Response(200, json={"access_token": _jwt({})})

    findings = run_chain(ChainInput("reg", LS, "http", directory_error="no session", stored=stored), answer)
    assert _codes(findings) == []
    assert "No berth sign-in (no session)" in findings[1].message


def _event(**fields: Any) -> dict[str, Any]:
    base = {
        "result_type": "Failed",
        "identity": "ci-token",
        "identity_kind": "token",
        "caller_ip": "10.0.0.1",
    }
    return {**base, **fields}


def test_verdicts_name_the_exact_fix() -> None:
    expired = explain(
        _event(reason="secret_expired", detail="the password1 of token 'ci-token' expired on X"), FACTS
    )
    assert expired is not None
    assert expired.cause == "The password1 of token 'ci-token' expired on X."
    assert expired.fix == "berth acr token credential generate -r reg -n ci-token --password1"

    facts = RegistryFacts(FACTS.name, FACTS.resource_id, LS, {"ci-token": "ci-map"})
    scope = explain(
        _event(reason="insufficient_scope", detail="d", requested_scopes="repository:b:pull"), facts
    )
    assert scope is not None
    assert scope.fix == "berth acr scope-map update -r reg -n ci-map --add-repository b content/read"

    system = RegistryFacts(FACTS.name, FACTS.resource_id, LS, {"ci-token": "_repositories_pull"})
    fixed = explain(
        _event(reason="insufficient_scope", detail="d", requested_scopes="repository:b:push"), system
    )
    assert fixed is not None
    assert fixed.fix.startswith("berth acr token update -r reg -n ci-token --scope-map")

    anonymous = RegistryFacts(FACTS.name, FACTS.resource_id, LS, anonymous_pull=True)
    stale = explain(
        _event(reason="bad_secret", detail="wrong", requested_scopes="repository:a:pull"), anonymous
    )
    assert stale is not None
    assert stale.code == "DOCKER_CONFIG_STALE_CREDENTIALS"
    assert explain(_event(reason="no_such_reason"), FACTS) is None


def test_explain_all_keeps_one_verdict_per_reason_and_identity() -> None:
    events = [
        _event(reason="bad_secret"),
        _event(reason="bad_secret"),
        _event(reason="rate_limited", detail="x"),
        {**_event(reason="bad_secret"), "result_type": "Succeeded"},
    ]
    assert [v.code for v in explain_all(events, FACTS)] == ["WRONG_SECRET", "RATE_LIMITED"]


def test_symptoms_from_error_text() -> None:
    assert match("unauthorized: Application not registered with AAD.")[0].name == (
        "Application not registered with AAD"
    )
    assert match(
        "Error response from daemon: login attempt to https://r/v2/ failed with status: 403 Forbidden"
    )[0].name.startswith("403 Forbidden")
    assert match("(AuthorizationFailed) The client 'x' does not have authorization to perform action")[
        0
    ].name == ("Not authorized to manage the registry")
    assert match("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")[0].name == (
        "Docker is not available"
    )
    assert match("everything is fine") == []


def _runner(ps: CommandResult) -> Callable[..., CommandResult]:
    def run(args: list[str], stdin: str | None = None, timeout: float = 60) -> CommandResult:
        if args[1:] == ["ps"]:
            return ps
        if args[1] == "version":
            return CommandResult(0, json.dumps({"Client": {"Version": "20.10.24"}}), "")
        return CommandResult(1, "", "no helper")

    return run


def test_ignore_errors_rules(monkeypatch: Any) -> None:
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    down = CommandResult(
        1, "", "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"
    )
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(401, headers=CHALLENGE)))
    request = HealthRequest("myregistry", LS, scheme="http", username="u", password="p")
    environ = {"DOCKER_CONFIG": "/nonexistent"}
    stopped = HealthCheck(
        request, client, environ, run=_runner(down), resolve=lambda h: "127.0.0.1"
    ).execute()
    assert (stopped.stopped_early, stopped.exit_code(False)) == (True, 1)
    assert [f.code for f in stopped.findings if f.code] == ["DOCKER_DAEMON_ERROR"]

    request.ignore_errors = True
    whole = HealthCheck(request, client, environ, run=_runner(down), resolve=lambda h: "127.0.0.1").execute()
    assert whole.exit_code(True) == 0
    assert "DNS lookup to reg.localhost:5000 at IP 127.0.0.1 : OK" in [f.message for f in whole.findings]
    assert whole.login_server == LS
