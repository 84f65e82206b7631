"""Monitoring: a registry's login and repository events as a filterable table, and charts over
time (sign-ins succeeded and failed by reason, pushes and pulls, bytes). Reader or above, as
``GET .../logs/{kind}`` of the management API."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from berth.events.store import EventFilter
from berth.management.authz import READ
from berth.portal import charts
from berth.portal.pages import Portal
from berth.portal.session import PortalUser

LOGS_ACTION = "Microsoft.ContainerRegistry/registries/logs/read"
WINDOWS = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400}
ROWS = 200
CHART_ROWS = 10_000
BUCKETS = 24


class MonitoringPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.logs = portal.services.management.logs

    async def events(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        user.caller.require(READ, user.registry_id(record), LOGS_ACTION)
        q = request.query_params
        kind = "repository" if q.get("kind") == "repository" else "login"
        window = q.get("since", "24h") if q.get("since") in WINDOWS else "24h"
        result = q.get("result", "")
        filters = {
            "identity": q.get("identity", "")[:256],
            "ip": q.get("ip", "")[:64],
            "reason": q.get("reason", "")[:40],
            "correlation_id": q.get("correlation_id", "")[:64],
            "repository": q.get("repository", "")[:255],
        }
        until = time.time()
        since = until - WINDOWS[window]
        where = EventFilter(
            since=since,
            failed_only=result == "failed",
            succeeded_only=result == "succeeded",
            identity=filters["identity"] or None,
            reason=(filters["reason"] or None) if kind == "login" else None,
            correlation_id=filters["correlation_id"] or None,
            repository=(filters["repository"] or None) if kind == "repository" else None,
            limit=CHART_ROWS,
        )
        rows = await self.logs.query(record, kind, where)
        if filters["ip"]:
            rows = [row for row in rows if str(row.get("caller_ip", "")) == filters["ip"]]
        return self.portal.render(
            request,
            "events.html",
            user,
            registry=record,
            kind=kind,
            window=window,
            windows=list(WINDOWS),
            result=result,
            filters=filters,
            rows=rows[:ROWS],
            total=len(rows),
            charts=self._charts(kind, rows, since, until),
            manage=True,
            tab="monitoring",
        )

    @staticmethod
    def _charts(kind: str, rows: list[dict[str, object]], since: float, until: float) -> list[charts.Chart]:
        starts = charts.buckets(since, until, BUCKETS)
        labels = [charts.label(start, until - since) for start in starts]
        if kind == "login":
            by_outcome = charts.count_by(
                rows,
                starts,
                until,
                lambda row: (
                    "succeeded"
                    if row["result_type"] == "Succeeded"
                    else f"failed: {row['reason'] or 'other'}"
                ),
            )
            return [charts.make_chart("signins", "Sign-ins by outcome", "sign-ins", labels, by_outcome)]
        transfers = [row for row in rows if row["operation"] in ("Push", "Pull")]
        counts = charts.count_by(
            transfers, starts, until, lambda row: {"Push": "pushes", "Pull": "pulls"}[str(row["operation"])]
        )
        sizes = charts.count_by(
            transfers,
            starts,
            until,
            lambda row: f"bytes {str(row['operation']).lower()}ed",
            lambda row: row["size"] or 0,
        )
        return [
            charts.make_chart("transfers", "Pushes and pulls", "operations", labels, counts),
            charts.make_chart("bytes", "Manifest bytes pushed and pulled", "bytes", labels, sizes),
        ]
