"""``berth acr logs login|repository``: a registry's login and repository events.

The rows are ACR's ``ContainerRegistryLoginEvents`` / ``ContainerRegistryRepositoryEvents``
columns plus berth's (the denial ``Reason`` and its ``Detail``, the scopes), read from the
management API (``GET R/{name}/logs/{kind}``; Reader or above on the registry). ``--follow``
polls for newer rows (``afterId``) and prints them as they come, until interrupted.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr.common import RegistryName, RegistryRef, ResourceGroup, find_registry
from berth.cli.framework import CliError, group
from berth.cli.output import to_table

app = group("logs", "Show a registry's login and repository events (ACR's log tables).")

FOLLOW_INTERVAL = 2.0
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

LOGIN_TABLE = (
    "TimeGenerated",
    "OperationName",
    "Identity",
    "IdentityKind",
    "CallerIpAddress",
    "ResultDescription",
    "Reason",
    "CorrelationId",
)
REPOSITORY_TABLE = (
    "TimeGenerated",
    "OperationName",
    "Identity",
    "Repository",
    "Tag",
    "Digest",
    "Size",
    "ResultDescription",
    "Reason",
)


class LogFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


def parse_since(value: str | None, now: float | None = None) -> float | None:
    """``1h``, ``30m``, ``2d`` (ago), an ISO 8601 time or epoch seconds → epoch seconds."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    found = _RELATIVE.match(text)
    if found:
        ago = float(found.group(1)) * _UNITS[found.group(2).lower()]
        return (time.time() if now is None else now) - ago
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"argument --since: '{value}' is not a duration (1h, 30m, 2d) or a time (2026-11-28T10:00:00Z)",
            exit_code=2,
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def query_events(registry: RegistryRef, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of ``GET <registry id>/logs/<kind>`` (raises the API's error, e.g. 403, as ApiError)."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    body = context.current().management.request("GET", f"{registry.id}/logs/{kind}", params=clean)
    return list((body or {}).get("value", []))


def _render(rows: list[dict[str, Any]], kind: str, output: LogFormat, header: bool = True) -> str:
    if output is LogFormat.json:
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if output is LogFormat.jsonl:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    columns = LOGIN_TABLE if kind == "login" else REPOSITORY_TABLE
    table = to_table([{c: row.get(c, "") for c in columns} for row in rows], generic=False)
    return table if header else "".join(table.splitlines(keepends=True)[2:])


def follow(
    fetch: Callable[[int | None], list[dict[str, Any]]],
    last_id: int | None,
    interval: float = FOLLOW_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[dict[str, Any]]]:
    """Batches of rows newer than ``last_id``, polling every ``interval`` seconds (forever)."""
    while True:
        sleep(interval)
        rows = fetch(last_id)
        if rows:
            last_id = max(int(row.get("Id") or 0) for row in rows)
            yield rows


def _show(
    kind: str,
    name: str,
    since: str | None,
    status: str | None,
    identity: str | None,
    reason: str | None,
    correlation_id: str | None,
    repository: str | None,
    operation: str | None,
    top: int,
    output: LogFormat,
    follow_rows: bool,
    resource_group: str | None,
) -> None:
    registry = find_registry(name, resource_group)
    params = {
        "since": str(parse_since(since) or ""),
        "status": status or "",
        "identity": identity or "",
        "reason": reason or "",
        "correlationId": correlation_id or "",
        "repository": repository or "",
        "operation": operation or "",
    }
    rows = query_events(registry, kind, {**params, "top": str(top)})
    rows.reverse()  # oldest first, like a log; following continues below
    if output is LogFormat.json and not follow_rows:
        sys.stdout.write(_render(rows, kind, output))
        return
    stream = LogFormat.jsonl if output is LogFormat.json else output
    sys.stdout.write(_render(rows, kind, stream))
    sys.stdout.flush()
    if not follow_rows:
        return
    last = max((int(row.get("Id") or 0) for row in rows), default=None)
    if last is None:
        last = max((int(r.get("Id") or 0) for r in query_events(registry, kind, {"top": "1"})), default=0)

    def fetch(after: int | None) -> list[dict[str, Any]]:
        return query_events(
            registry, kind, {**params, "since": "", "afterId": str(after or 0), "top": "1000"}
        )

    try:
        for batch in follow(fetch, last):
            sys.stdout.write(_render(batch, kind, stream, header=not rows and stream is LogFormat.table))
            sys.stdout.flush()
            rows = rows or batch
    except KeyboardInterrupt:
        return


Since = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--since", help="Only events newer than this: 1h, 30m, 2d, or an ISO 8601 time."),
]
Status = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--status", help="failed or succeeded."),
]
IdentityOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--identity", help="User principal name, app id, token name or registry name (admin)."),
]
Reason = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--reason", help="A denial reason, e.g. bad_secret, no_role, ip_denied, secret_expired."),
]
Correlation = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--correlation-id", help="The X-Ms-Correlation-Request-Id of one request."),
]
Repository = Annotated[Optional[str], typer.Option("--repository", help="Repository events: one repository.")]  # noqa: UP045
Operation = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--operation", help="OperationName, e.g. token, exchange, basic (login); Push, Pull (repository)."
    ),
]
Top = Annotated[int, typer.Option("--top", min=1, max=10000, help="At most this many rows (newest).")]
Output = Annotated[LogFormat, typer.Option("--output", "-o", help="table, json or jsonl.")]
Follow = Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events until interrupted.")]


def _check_status(status: str | None) -> str | None:
    if status is not None and status.lower() not in ("failed", "succeeded", "all"):
        raise CliError(f"argument --status: invalid choice '{status}' (use failed or succeeded)", exit_code=2)
    return status.lower() if status else None


def login_events(
    name: RegistryName,
    since: Since = None,
    status: Status = None,
    identity: IdentityOption = None,
    reason: Reason = None,
    correlation_id: Correlation = None,
    operation: Operation = None,
    top: Top = 100,
    output: Output = LogFormat.table,
    follow_rows: Follow = False,
    resource_group: ResourceGroup = None,
) -> None:
    """Authentication attempts: who, from where, and why a failure failed (Reason, Detail)."""
    _show(
        "login", name, since, _check_status(status), identity, reason, correlation_id, None, operation, top,
        output, follow_rows, resource_group,
    )  # fmt: skip


def repository_events(
    name: RegistryName,
    since: Since = None,
    status: Status = None,
    identity: IdentityOption = None,
    repository: Repository = None,
    correlation_id: Correlation = None,
    operation: Operation = None,
    top: Top = 100,
    output: Output = LogFormat.table,
    follow_rows: Follow = False,
    resource_group: ResourceGroup = None,
) -> None:
    """Pushes, pulls, deletes and untags, with repository, tag, digest and size (and why a refused
    push was refused: Reason, e.g. storage_quota_exceeded)."""
    _show(
        "repository", name, since, _check_status(status), identity, None, correlation_id, repository,
        operation, top, output, follow_rows, resource_group,
    )  # fmt: skip


def register(acr: typer.Typer) -> None:
    app.command("login")(login_events)
    app.command("repository")(repository_events)
    acr.add_typer(app, name="logs")
