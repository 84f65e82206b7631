"""Event rows under ACR's column names and back (what diagnose reads from the API)."""

from __future__ import annotations

from berth.events.columns import as_columns, from_columns

LOGIN_ROW = {
    "id": 7,
    "time": 1_795_000_000.5,
    "login_server": "reg.localhost:5000",
    "operation": "token",
    "identity": "ci-token",
    "identity_kind": "token",
    "caller_ip": "127.0.0.1",
    "user_agent": "docker/27",
    "correlation_id": "c-1",
    "result_type": "Failed",
    "result_description": "401",
    "duration_ms": 12.4,
    "jwt_id": "",
    "reason": "bad_secret",
    "detail": "wrong password",
    "requested_scopes": "repository:app:pull",
    "granted_scopes": "",
}


def test_login_row_round_trip() -> None:
    shown = as_columns("login", LOGIN_ROW)
    assert (shown["Id"], shown["TimeGenerated"], shown["DurationMs"]) == (7, "2026-11-18T11:06:40.500Z", "12")
    assert shown["Type"] == "ContainerRegistryLoginEvents"
    back = from_columns(shown)
    # every field comes back as stored, except the time and duration ACR shows as text
    assert back == {**LOGIN_ROW, "time": "2026-11-18T11:06:40.500Z", "duration_ms": "12"}


def test_repository_columns_and_unknown_columns() -> None:
    shown = as_columns("repository", {"repository": "app", "tag": "v1", "size": None})
    assert (shown["Type"], shown["Repository"], shown["Tag"], shown["Size"]) == (
        "ContainerRegistryRepositoryEvents",
        "app",
        "v1",
        0,
    )
    back = from_columns({**shown, "NotAColumn": "x"})
    assert (back["repository"], back["tag"], back["size"]) == ("app", "v1", 0)
    assert "NotAColumn" not in back
