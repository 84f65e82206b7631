"""``berth acr login`` against an in-process fake of the service, the registry and docker."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.unit.cli.conftest import SUBSCRIPTION, TENANT, Outcome

NULL_GUID = "00000000-0000-0000-0000-000000000000"
LS = "myreg.berth.test:5000"
REGISTRY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default"
    "/providers/Microsoft.ContainerRegistry/registries/myreg"
)


@dataclass
class FakeService:
    registries: list[dict[str, Any]] = field(default_factory=list)
    v2_status: int = 401
    exchange_status: int = 200
    calls: list[str] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def add_registry(self, admin: bool = False) -> None:
        self.registries.append(
            {
                "id": REGISTRY_ID,
                "name": "myreg",
                "properties": {"loginServer": LS, "adminUserEnabled": admin},
            }
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.host}{request.url.path}")
        path = request.url.path
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": self.registries})
        if path.endswith("/oauth2/v2.0/token"):
            form = parse_qs(request.content.decode())
            assert form["scope"][0].startswith("https://containerregistry.azure.net/.default")
            return httpx.Response(200, json={"access_token": "directory-acr-token", "expires_in": 3600})
        if path == "/v2/":
            if self.v2_status == 404:
                return httpx.Response(404, json={"errors": [{"code": "REGISTRY_UNKNOWN", "message": "no"}]})
            if self.v2_status == 403:
                return httpx.Response(403, json={"errors": [{"code": "DENIED", "message": "client with IP"}]})
            host = request.url.netloc.decode()
            realm = f'Bearer realm="http://{host}/oauth2/token",service="{host}"'
            return httpx.Response(401, headers={"WWW-Authenticate": realm})
        if path == "/oauth2/exchange":
            self.exchanges.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
            if self.exchange_status != 200:
                return httpx.Response(
                    self.exchange_status, json={"errors": [{"code": "DENIED", "message": "no"}]}
                )
            return httpx.Response(200, json={"refresh_token": "acr-refresh-token"})
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": path}})


@pytest.fixture
def service(signed_in: Callable[[Any], None]) -> FakeService:
    fake = FakeService()
    signed_in(fake)
    return fake


def test_expose_token_prints_the_refresh_token_with_azs_notes(
    service: FakeService, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    service.add_registry()
    monkeypatch.setenv("DOCKER_COMMAND", "/nonexistent/docker")  # --expose-token needs no docker
    outcome = cli("acr", "login", "-n", "myreg", "--expose-token")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == {
        "loginServer": LS,
        "username": NULL_GUID,
        "accessToken": "acr-refresh-token",
        "refreshToken": "acr-refresh-token",
    }
    warnings = outcome.stderr.splitlines()
    assert warnings[0].startswith("WARNING: Note: The token in both the accessToken and refreshToken fields")
    assert warnings[1] == (
        "WARNING: You can perform manual login using the provided refresh token below, for example: "
        f"'docker login loginServer -u {NULL_GUID} -p refreshToken'"
    )
    assert service.exchanges == [
        {"grant_type": "access_token", "service": LS, "tenant": TENANT, "access_token": "directory-acr-token"}
    ]


def test_one_v2_request_serves_the_reachability_check_and_the_challenge(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    service.add_registry()
    assert cli("acr", "login", "-n", "myreg", "--expose-token").code == 0
    assert service.calls.count("GET myreg.berth.test/v2/") == 1


def test_expose_token_refuses_username_and_password(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    outcome = cli("acr", "login", "-n", "myreg", "--expose-token", "-u", "x", "-p", "y")
    assert outcome.code == 1
    assert outcome.stderr == "ERROR: `--expose-token` cannot be combined with `--username` or `--password`.\n"


def test_uppercase_names_get_azs_warning(service: FakeService, cli: Callable[..., Outcome]) -> None:
    service.add_registry()
    outcome = cli("acr", "login", "-n", "MyReg", "--expose-token", "--only-show-errors")
    assert outcome.stderr == ""
    outcome = cli("acr", "login", "-n", "MyReg", "--expose-token")
    assert outcome.stderr.splitlines()[0] == (
        "WARNING: Uppercase characters are detected in the registry name. When using its server url in "
        "docker commands, to avoid authentication errors, use all lowercase."
    )


def test_an_invisible_registry_falls_back_to_name_dot_domain(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    outcome = cli("acr", "login", "-n", "Hidden", "--expose-token")
    assert outcome.code == 0, outcome.stderr
    # The service's domain and port come from the directory's issuer (see conftest's session).
    assert json.loads(outcome.stdout)["loginServer"] == "hidden.berth.test:5000"


def test_firewall_denial_explains_how_to_look(service: FakeService, cli: Callable[..., Outcome]) -> None:
    service.add_registry()
    service.v2_status = 403
    outcome = cli("acr", "login", "-n", "myreg", "--expose-token")
    assert outcome.code == 1
    assert outcome.stderr.startswith(
        f"ERROR: Looks like you don't have access to registry '{LS}'. To see configured firewall rules, run "
        "'berth acr show --query networkRuleSet --name myreg'."
    )
    assert outcome.stderr.count("\n") == 1


def test_unreachable_login_server(cli: Callable[..., Outcome], signed_in: Callable[[Any], None]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            raise httpx.ConnectError("connection refused")
        return FakeService()(request)

    signed_in(handler)
    outcome = cli("acr", "login", "-n", "gone", "--expose-token")
    assert outcome.code == 1
    assert outcome.stderr.splitlines()[-1] == (
        "ERROR: Could not connect to the registry login server 'gone.berth.test:5000'. Please verify that "
        "the registry exists and the URL 'http://gone.berth.test:5000/v2/' is reachable from your "
        "environment. Try running 'berth acr check-health -n gone --yes' to diagnose this issue."
    )


def test_failed_exchange_then_admin_disabled_then_non_interactive(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    service.add_registry(admin=False)
    service.exchange_status = 403
    outcome = cli("acr", "login", "-n", "myreg", "--expose-token")
    assert outcome.code == 1
    lines = outcome.stderr.splitlines()
    assert lines == [
        "WARNING: Unable to get AAD authorization tokens with message: An error occurred: "
        f"CONNECTIVITY_REFRESH_TOKEN_ERROR. Access to registry '{LS}' was denied. Response code: 403. Please "
        "try running 'berth login' again to refresh permissions.",
        "WARNING: Unable to get admin user credentials with message: Admin user is disabled.",
        "ERROR: Unable to authenticate using AAD or admin login credentials. Please specify both username "
        "and password in non-interactive mode.",
    ]


def test_admin_fallback_explains_that_berth_shows_passwords_once(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    service.add_registry(admin=True)
    service.exchange_status = 401
    outcome = cli("acr", "login", "-n", "myreg", "--expose-token")
    assert outcome.code == 1
    assert "berth shows an admin password only once" in outcome.stderr
    assert "--username myreg --password <password>" in outcome.stderr
    assert not any("listCredentials" in call for call in service.calls)


def _fake_docker(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "docker-calls.json"
    script = tmp_path / "docker"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"record = {str(record)!r}\n"
        "calls = json.load(open(record)) if __import__('os').path.exists(record) else []\n"
        "stdin = sys.stdin.read() if sys.argv[1:2] == ['login'] else ''\n"
        "calls.append({'args': sys.argv[1:], 'stdin': stdin})\n"
        "json.dump(calls, open(record, 'w'))\n"
        "if sys.argv[1:2] == ['login']:\n"
        "    print('WARNING! Your password will be stored unencrypted.', file=sys.stderr)\n"
        "    print('Login Succeeded')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, record


def test_docker_is_logged_in_with_the_null_guid_and_the_refresh_token_on_stdin(
    service: FakeService, cli: Callable[..., Outcome], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.add_registry()
    script, record = _fake_docker(tmp_path)
    monkeypatch.setenv("DOCKER_COMMAND", str(script))
    outcome = cli("acr", "login", "-n", "myreg")
    assert outcome.code == 0, outcome.stderr
    calls = json.loads(record.read_text())
    assert calls == [
        {"args": ["ps"], "stdin": ""},
        {"args": ["login", "--username", NULL_GUID, "--password-stdin", LS], "stdin": "acr-refresh-token"},
    ]
    assert outcome.stderr == "WARNING: WARNING! Your password will be stored unencrypted.\n"


def test_username_and_password_go_to_docker_unchanged(
    service: FakeService, cli: Callable[..., Outcome], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.add_registry()
    script, record = _fake_docker(tmp_path)
    monkeypatch.setenv("DOCKER_COMMAND", str(script))
    assert cli("acr", "login", "-n", "myreg", "-u", "mytoken", "-p", "pw1").code == 0
    assert json.loads(record.read_text())[-1] == {
        "args": ["login", "--username", "mytoken", "--password-stdin", LS],
        "stdin": "pw1",
    }
    assert service.exchanges == []


def test_missing_docker_suggests_expose_token(
    service: FakeService, cli: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_COMMAND", "/nonexistent/docker")
    outcome = cli("acr", "login", "-n", "myreg")
    assert outcome.code == 1
    assert outcome.stderr.splitlines() == [
        "WARNING: An error occurred: DOCKER_COMMAND_ERROR. Please verify if Docker client is installed and "
        "running.",
        "ERROR: You may want to use 'berth acr login -n myreg --expose-token' to get an access token, which "
        "does not require Docker to be installed.",
    ]


@pytest.mark.parametrize("given", [LS, "myreg.berth.test", "MyReg.berth.test:5000"])
def test_a_login_server_as_name_is_stripped_with_azs_warning(
    service: FakeService, cli: Callable[..., Outcome], given: str
) -> None:
    service.add_registry()
    outcome = cli("acr", "login", "-n", given, "--expose-token")
    assert outcome.code == 0, outcome.stderr
    suffix = given[given.index(".") :]
    assert outcome.stderr.splitlines()[0] == (
        f"WARNING: The login server endpoint suffix '{suffix}' is automatically omitted."
    )
    assert json.loads(outcome.stdout)["loginServer"] == LS


def test_a_registry_that_does_not_exist_is_said_first(
    service: FakeService, cli: Callable[..., Outcome]
) -> None:
    service.v2_status = 404
    outcome = cli("acr", "login", "-n", "nosuchreg", "--expose-token")
    assert outcome.code == 1
    assert outcome.stderr == (
        "ERROR: The registry 'nosuchreg' does not exist on this service (nosuchreg.berth.test:5000 is not a "
        "registry's login server). Check the name: berth acr list -o table\n"
    )
