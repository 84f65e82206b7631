from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.unit.cli.conftest import SERVER, SUBSCRIPTION, TENANT, Outcome


def _directory(forms: list[dict[str, str]]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": f"http://localhost:5000/{TENANT}/v2.0",
                    "token_endpoint": f"{SERVER}/{TENANT}/oauth2/v2.0/token",
                },
            )
        if path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            forms.append(form)
            if form.get("password", form.get("client_secret")) != "right":
                return httpx.Response(
                    400,
                    json={
                        "error": "invalid_grant",
                        "error_description": "AADSTS50126: Error validating credentials due to invalid "
                        "username or password. Trace ID: 1",
                    },
                )
            body = {"access_token": "mgmt", "expires_in": 3600}
            if form["grant_type"] == "password":
                body["refresh_token"] = "refresh"
            return httpx.Response(200, json=body)
        if path == "/subscriptions":
            assert request.headers["authorization"] == "Bearer mgmt"
            return httpx.Response(200, json={"value": [{"subscriptionId": SUBSCRIPTION, "tenantId": TENANT}]})
        return httpx.Response(404)

    return handler


def test_user_login_saves_a_private_session_and_prints_the_subscription(
    cli: Callable[..., Outcome], route: Callable[[Any], None], config_dir: Path
) -> None:
    forms: list[dict[str, str]] = []
    route(_directory(forms))
    outcome = cli("login", "-u", "admin@localhost", "-p", "right", "--server", SERVER + "/")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == [
        {
            "cloudName": "berth",
            "homeTenantId": TENANT,
            "id": SUBSCRIPTION,
            "isDefault": True,
            "managedByTenants": [],
            "name": "berth",
            "state": "Enabled",
            "tenantId": TENANT,
            "user": {"name": "admin@localhost", "type": "user"},
        }
    ]
    assert forms[0]["grant_type"] == "password"
    assert forms[0]["scope"] == "https://management.azure.com/.default offline_access"
    path = config_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["server"] == SERVER
    assert saved["refresh_token"] == "refresh"
    assert saved["client_secret"] is None
    assert "right" not in path.read_text()  # a user's password is never stored

    shown = json.loads(cli("account", "show").stdout)
    assert shown["user"] == {"name": "admin@localhost", "type": "user"}
    assert shown["server"] == SERVER
    assert cli("account", "show", "--query", "user.name", "-o", "tsv").stdout == "admin@localhost\n"

    assert cli("logout").code == 0
    assert not path.exists()
    outcome = cli("logout")
    assert (outcome.code, outcome.stderr) == (1, "ERROR: There are no active accounts.\n")


def test_service_principal_login_keeps_the_secret_for_renewal(
    cli: Callable[..., Outcome], route: Callable[[Any], None], config_dir: Path, monkeypatch: Any
) -> None:
    forms: list[dict[str, str]] = []
    route(_directory(forms))
    monkeypatch.setenv("BERTH_SERVER", SERVER)
    outcome = cli("login", "--service-principal", "-u", "app-id", "-p", "right", "--tenant", TENANT)
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)[0]["user"] == {"name": "app-id", "type": "servicePrincipal"}
    assert forms[0] == {
        "grant_type": "client_credentials",
        "client_id": "app-id",
        "client_secret": "right",
        "scope": "https://management.azure.com/.default",
    }
    saved = json.loads((config_dir / "session.json").read_text())
    assert saved["client_secret"] == "right"
    assert saved["refresh_token"] is None


def test_bad_password_is_one_line(
    cli: Callable[..., Outcome], route: Callable[[Any], None], config_dir: Path
) -> None:
    route(_directory([]))
    outcome = cli("login", "-u", "admin@localhost", "-p", "wrong", "--server", SERVER)
    assert outcome.code == 1
    assert outcome.stderr == (
        "ERROR: AADSTS50126: Error validating credentials due to invalid username or password.\n"
    )
    assert not (config_dir / "session.json").exists()


def test_other_tenant_and_bad_urls_are_refused(
    cli: Callable[..., Outcome], route: Callable[[Any], None]
) -> None:
    route(_directory([]))
    outcome = cli("login", "-u", "a@b", "-p", "right", "--server", SERVER, "--tenant", "someone-else")
    assert outcome.stderr == f"ERROR: Tenant 'someone-else' not found. This service's tenant is {TENANT}.\n"
    outcome = cli("login", "-u", "a@b", "-p", "right", "--server", "localhost:5000")
    assert outcome.stderr.startswith("ERROR: --server 'localhost:5000' must be a URL")


def test_missing_password_in_non_interactive_mode(
    cli: Callable[..., Outcome], route: Callable[[Any], None]
) -> None:
    route(_directory([]))
    outcome = cli("login", "-u", "a@b", "--server", SERVER)
    assert outcome.stderr == "ERROR: Please specify both username and password in non-interactive mode.\n"


def test_service_principal_login_with_a_federated_token(
    cli: Callable[..., Outcome], route: Callable[[Any], None], config_dir: Path, monkeypatch: Any
) -> None:
    forms: list[dict[str, str]] = []

    def directory(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            forms.append(form)
            return httpx.Response(200, json={"access_token": "mgmt", "expires_in": 3600})
        return _directory([])(request)

    route(directory)
    monkeypatch.setenv("BERTH_SERVER", SERVER)
    outcome = cli("login", "--service-principal", "-u", "app-id", "--federated-token", "job.jwt.token")
    assert outcome.code == 0, outcome.stderr
    assert forms[0] == {
        "grant_type": "client_credentials",
        "client_id": "app-id",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "job.jwt.token",
        "scope": "https://management.azure.com/.default",
    }
    saved = json.loads((config_dir / "session.json").read_text())
    assert saved["federated_token"] == "job.jwt.token"
    assert saved["client_secret"] is None
    refused = cli("login", "-u", "app-id", "--federated-token", "t")
    assert (
        refused.stderr
        == "ERROR: usage error: --service-principal --username APP_ID --federated-token TOKEN\n"
    )
