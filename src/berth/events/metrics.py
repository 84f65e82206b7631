"""Prometheus metrics, on their own registry and their own port (``metrics_listen``)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from berth.config import _split_address
from berth.events.model import LoginEvent, RepositoryEvent
from berth.events.observer import RequestSummary

log = logging.getLogger("berth.metrics")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.logins = Counter(
            "berth_logins",
            "Authentication attempts by result and reason.",
            ["operation", "result", "reason"],
            registry=self.registry,
        )
        self.repository_operations = Counter(
            "berth_repository_operations",
            "Pushes, pulls, deletes and untags.",
            ["operation"],
            registry=self.registry,
        )
        self.requests = Histogram(
            "berth_request_duration_seconds",
            "Registry-plane request latency.",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.bytes_in = Counter(
            "berth_bytes_received", "Request body bytes received.", registry=self.registry
        )
        self.bytes_out = Counter("berth_bytes_sent", "Response body bytes sent.", registry=self.registry)

    def observe(
        self, summary: RequestSummary, login: LoginEvent | None, repository_events: list[RepositoryEvent]
    ) -> None:
        self.requests.labels(summary.route or "unmatched", summary.method, str(summary.status)).observe(
            summary.duration_ms / 1000
        )
        self.bytes_in.inc(summary.bytes_in)
        self.bytes_out.inc(summary.bytes_out)
        if login is not None:
            self.logins.labels(login.operation, login.result_type, login.reason or "none").inc()
        for event in repository_events:
            self.repository_operations.labels(event.operation).inc()

    def serve(self, address: str) -> None:
        host, port = _split_address(address, "metrics_listen")
        start_http_server(port, addr=host, registry=self.registry)
        log.info("Prometheus metrics on http://%s/metrics", address)
