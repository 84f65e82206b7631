"""Prometheus metrics, on their own registry and their own port (``metrics_listen``)."""

from __future__ import annotations

import logging
from typing import Any

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

        # The labelled series, by label values: ``labels()`` validates and locks on every call,
        # a few microseconds of each request. The values are few: berth's routes, statuses and
        # operations, and the methods the HTTP parser accepts.
        self._latency_series: dict[tuple[str, str, int], Any] = {}
        self._operation_series: dict[str, Any] = {}

    def observe(
        self, summary: RequestSummary, login: LoginEvent | None, repository_events: list[RepositoryEvent]
    ) -> None:
        key = (summary.route or "unmatched", summary.method, summary.status)
        latency = self._latency_series.get(key)
        if latency is None:
            latency = self._latency_series[key] = self.requests.labels(key[0], key[1], str(key[2]))
        latency.observe(summary.duration_ms / 1000)
        if summary.bytes_in:
            self.bytes_in.inc(summary.bytes_in)
        if summary.bytes_out:
            self.bytes_out.inc(summary.bytes_out)
        if login is not None:
            self.logins.labels(login.operation, login.result_type, login.reason or "none").inc()
        for event in repository_events:
            operations = self._operation_series.get(event.operation)
            if operations is None:
                operations = self._operation_series[event.operation] = self.repository_operations.labels(
                    event.operation
                )
            operations.inc()

    def serve(self, address: str) -> None:
        host, port = _split_address(address, "metrics_listen")
        start_http_server(port, addr=host, registry=self.registry)
        log.info("Prometheus metrics on http://%s/metrics", address)
