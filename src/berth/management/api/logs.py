"""A registry's login and repository events: ``GET R/{name}/logs/login`` and ``.../logs/repository``.

Rows carry the columns of ACR's ``ContainerRegistryLoginEvents`` and
``ContainerRegistryRepositoryEvents`` plus berth's own (:mod:`berth.events.columns`); newest
first, or oldest first after ``afterId`` (how ``berth acr logs --follow`` streams). Reading them
needs Reader or above on the registry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from berth.events.columns import as_columns
from berth.events.store import EventFilter
from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep
from berth.management.authz import READ
from berth.management.errors import invalid

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Logs"])

ACTION = "Microsoft.ContainerRegistry/registries/logs/read"
MAX_TOP = 10_000
MAX_EVENT_ID = 2**31 - 1  # event ids are INTEGER columns: 32 bits on PostgreSQL
# 9999-12-31T23:59:59Z: the last second Python's datetime (and ARM's time format) can write.
MAX_TIMESTAMP = 253_402_300_799.0
_EPOCH = re.compile(r"^[0-9]+(\.[0-9]+)?$")

Kind = Annotated[
    Literal["login", "repository"],
    Path(description="login: ContainerRegistryLoginEvents; repository: ContainerRegistryRepositoryEvents."),
]


def parse_time(value: str | None, name: str) -> float | None:
    """An ISO 8601 time (naive means UTC) or seconds since the epoch; 400 naming ``name`` otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    not_a_time = invalid(
        f"'{text[:80]}' is not a time: use ISO 8601 (2026-11-28T10:00:00Z) or seconds since the epoch, "
        "up to 9999-12-31T23:59:59Z.",
        name,
    )
    if _EPOCH.match(text):
        seconds = float(text)  # digits only: at worst inf, which the bound below refuses
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise not_a_time from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    if seconds > MAX_TIMESTAMP:
        raise not_a_time
    return seconds


@router.get(REGISTRY + "/logs/{kind}", operation_id="Registries_ListLogs")
async def list_logs(
    scope: RegistryDep,
    kind: Kind,
    since: Annotated[str | None, Query(description="ISO 8601 time or epoch seconds.")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 time or epoch seconds.")] = None,
    status: Annotated[
        Literal["failed", "succeeded", "all"] | None, Query(description="Only failed or succeeded events.")
    ] = None,
    identity: Annotated[str | None, Query(max_length=256)] = None,
    reason: Annotated[str | None, Query(max_length=40, description="A denial reason (login events).")] = None,
    correlation_id: Annotated[str | None, Query(alias="correlationId", max_length=64)] = None,
    repository: Annotated[str | None, Query(max_length=255, description="Repository events only.")] = None,
    operation: Annotated[str | None, Query(max_length=40)] = None,
    after_id: Annotated[
        int | None,
        Query(alias="afterId", ge=0, le=MAX_EVENT_ID, description="Only newer rows, oldest first."),
    ] = None,
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = 100,
) -> dict[str, Any]:
    """The registry's events, filtered; ``{"value": [row, ...]}``."""
    record = await scope.authorized_registry(READ, ACTION)
    where = EventFilter(
        since=parse_time(since, "since"),
        until=parse_time(until, "until"),
        failed_only=status == "failed",
        succeeded_only=status == "succeeded",
        identity=identity or None,
        reason=reason or None,
        correlation_id=correlation_id or None,
        repository=repository or None,
        operation=operation or None,
        after_id=after_id,
        limit=top,
    )
    rows = await scope.api.management.logs.query(record, kind, where)
    return {"value": [as_columns(kind, row) for row in rows]}
