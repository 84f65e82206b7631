"""``GET R/{name}/logs/login`` and ``.../logs/repository``: a registry's events with ACR's columns,
filtered, followed with ``afterId``; Reader or above only; never a secret in a row."""

from __future__ import annotations

import base64
import time
from typing import Any

from berth.app import BerthApp
from berth.events.recorder import EventRecorder
from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

LOGIN_COLUMNS = {
    "Id",
    "TimeGenerated",
    "Type",
    "LoginServer",
    "OperationName",
    "Identity",
    "IdentityKind",
    "CallerIpAddress",
    "UserAgent",
    "JwtId",
    "CorrelationId",
    "DurationMs",
    "ResultType",
    "ResultDescription",
    "Reason",
    "Detail",
    "RequestedScopes",
    "GrantedScopes",
}


def _flush(app: BerthApp) -> None:
    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()


def _basic(username: str, password: str) -> dict[str, str]:
    value = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def _token(client: TestClient, login_server: str, username: str, password: str) -> Any:
    return client.get(
        "/oauth2/token",
        params={"service": login_server, "scope": "repository:app:pull"},
        headers={**_basic(username, password), "Host": login_server},
    )


def _logs(caller: ArmCaller, registry: str, kind: str = "login", **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = caller.ok(
        caller.get(f"{caller.registry(registry)}/logs/{kind}", params=params)
    )["value"]
    return rows


def test_failed_login_is_listed_with_acr_columns_and_reason(
    app: BerthApp, client: TestClient, owner: ArmCaller
) -> None:
    created = owner.create_registry("logsone")
    login_server = created["properties"]["loginServer"]
    secret = "not-the-admin-password-1234"
    assert _token(client, login_server, "logsone", secret).status_code == 401
    assert _token(client, login_server, "nosuchuser", secret).status_code == 401
    _flush(app)

    rows = _logs(owner, "logsone", status="failed")
    assert len(rows) == 2
    assert set(rows[0]) == LOGIN_COLUMNS
    newest, oldest = rows
    assert newest["Reason"] == "unknown_identity"
    assert newest["Identity"] == "nosuchuser"
    assert oldest["Reason"] == "admin_disabled"
    assert oldest["IdentityKind"] == "admin"
    assert oldest["Type"] == "ContainerRegistryLoginEvents"
    assert oldest["ResultType"] == "Failed"
    assert oldest["ResultDescription"] == "401"
    assert oldest["LoginServer"] == login_server.split(":")[0]  # the host the client addressed
    assert oldest["TimeGenerated"].endswith("Z")
    assert oldest["DurationMs"].isdigit()
    assert secret not in str(rows)

    assert [r["Identity"] for r in _logs(owner, "logsone", reason="admin_disabled")] == ["logsone"]
    assert [r["Reason"] for r in _logs(owner, "logsone", identity="nosuchuser")] == ["unknown_identity"]
    by_id = _logs(owner, "logsone", correlationId=newest["CorrelationId"])
    assert [r["Id"] for r in by_id] == [newest["Id"]]
    assert _logs(owner, "logsone", status="succeeded") == []
    assert len(_logs(owner, "logsone", top=1)) == 1


def test_since_and_after_id_follow_new_rows(app: BerthApp, client: TestClient, owner: ArmCaller) -> None:
    login_server = owner.create_registry("logstwo")["properties"]["loginServer"]
    _token(client, login_server, "first-user", "x")
    _flush(app)
    first = _logs(owner, "logstwo")
    assert len(first) == 1
    _token(client, login_server, "second-user", "x")
    _token(client, login_server, "third-user", "x")
    _flush(app)
    followed = _logs(owner, "logstwo", afterId=first[0]["Id"])
    assert [r["Identity"] for r in followed] == ["second-user", "third-user"]  # oldest first
    assert _logs(owner, "logstwo", since=str(time.time() + 60)) == []
    assert len(_logs(owner, "logstwo", since="2000-01-01T00:00:00Z")) == 3


def test_bad_filters_are_400_naming_the_parameter(owner: ArmCaller) -> None:
    owner.create_registry("logsthree")
    path = f"{owner.registry('logsthree')}/logs/login"
    message = assert_arm_error(owner.get(path, params={"since": "yesterday"}), 400, "InvalidParameter")
    assert "ISO 8601" in message
    assert owner.get(path, params={"top": "0"}).status_code == 400
    assert owner.get(f"{owner.registry('logsthree')}/logs/other").status_code in (400, 404)


def test_reader_may_read_logs_and_acr_pull_may_not(owner: ArmCaller) -> None:
    owner.create_registry("logsfour")
    registry_id = owner.registry("logsfour")
    reader = owner.make_principal("Reader", registry_id, name="log-reader")
    assert reader.ok(reader.get(f"{registry_id}/logs/repository")) == {"value": []}
    puller = owner.make_principal("AcrPull", registry_id, name="log-puller")
    message = assert_arm_error(puller.get(f"{registry_id}/logs/login"), 403, "AuthorizationFailed")
    assert "Microsoft.ContainerRegistry/registries/logs/read" in message
    assert_arm_error(owner.get(f"{owner.registry('nosuchreg')}/logs/login"), 404, "ResourceNotFound")
