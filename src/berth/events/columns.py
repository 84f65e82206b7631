"""Event rows as ACR's log tables name their columns.

Stored rows use snake_case (``result_type``); the management API and the CLI show them with
the columns of ``ContainerRegistryLoginEvents`` / ``ContainerRegistryRepositoryEvents``
(``ResultType``, ``TimeGenerated`` in ISO 8601, ``DurationMs`` as text as ACR stores it) plus
berth's own (``IdentityKind``, ``Reason``, ``Detail``, the scopes). ``Id`` is berth's row id,
increasing, which ``afterId`` follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

LOGIN_TYPE = "ContainerRegistryLoginEvents"
REPOSITORY_TYPE = "ContainerRegistryRepositoryEvents"

_COMMON = (
    ("login_server", "LoginServer"),
    ("operation", "OperationName"),
    ("identity", "Identity"),
    ("identity_kind", "IdentityKind"),
    ("caller_ip", "CallerIpAddress"),
    ("user_agent", "UserAgent"),
    ("correlation_id", "CorrelationId"),
    ("result_type", "ResultType"),
    ("result_description", "ResultDescription"),
)
_LOGIN = (
    ("jwt_id", "JwtId"),
    ("reason", "Reason"),
    ("detail", "Detail"),
    ("requested_scopes", "RequestedScopes"),
    ("granted_scopes", "GrantedScopes"),
)
_REPOSITORY = (
    ("repository", "Repository"),
    ("tag", "Tag"),
    ("digest", "Digest"),
    ("media_type", "MediaType"),
    ("artifact_type", "ArtifactType"),
    ("size", "Size"),
    ("reason", "Reason"),
    ("detail", "Detail"),
)

# ACR's column name → the stored field, for reading rows back (diagnose).
_FIELDS = {column: field for field, column in (*_COMMON, *_LOGIN, *_REPOSITORY)}


def iso_time(epoch: float) -> str:
    """``2026-11-28T11:00:00.123Z``: UTC with milliseconds, as Log Analytics shows TimeGenerated."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _duration(value: Any) -> str:
    try:
        return str(round(float(value)))
    except (TypeError, ValueError):
        return "0"


def as_columns(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """One stored row (``kind`` ``login`` or ``repository``) with ACR's column names."""
    extra = _LOGIN if kind == "login" else _REPOSITORY
    shown: dict[str, Any] = {
        "Id": int(row.get("id") or 0),
        "TimeGenerated": iso_time(float(row.get("time") or 0.0)),
        "Type": LOGIN_TYPE if kind == "login" else REPOSITORY_TYPE,
    }
    for field, column in _COMMON:
        shown[column] = row.get(field) or ""
    shown["DurationMs"] = _duration(row.get("duration_ms"))
    for field, column in extra:
        value = row.get(field)
        shown[column] = int(value or 0) if field == "size" else value or ""
    return shown


def from_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """The reverse, for clients that read the API (diagnose): ACR's names back to berth's fields."""
    stored: dict[str, Any] = {_FIELDS[k]: v for k, v in row.items() if k in _FIELDS}
    stored["id"] = row.get("Id")
    stored["time"] = row.get("TimeGenerated")
    stored["duration_ms"] = row.get("DurationMs")
    return stored
