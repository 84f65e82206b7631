"""The Prometheus series a finished request moves (the labelled series are reused)."""

from __future__ import annotations

from berth.events.metrics import Metrics
from berth.events.model import RepositoryEvent
from berth.events.observer import RequestSummary


def summary(status: int, duration_ms: float, bytes_in: int = 0, bytes_out: int = 0) -> RequestSummary:
    return RequestSummary(
        method="GET",
        path="/v2/app/manifests/v1",
        route="manifest",
        status=status,
        duration_ms=duration_ms,
        client_ip="10.0.0.1",
        user_agent="docker",
        correlation_id="c",
        login_server="myreg.example",
        bytes_in=bytes_in,
        bytes_out=bytes_out,
    )


def pull() -> RepositoryEvent:
    return RepositoryEvent(
        *(0.0, "r", "myreg", "myreg.example", "Pull", "", "", "10.0.0.1", "docker", "c", 1.0),
        *("Succeeded", "200", "app", "v1", "", "", "", 0),
    )


def test_requests_land_in_their_series() -> None:
    metrics = Metrics()
    metrics.observe(summary(200, 2.0, bytes_out=500), None, [pull()])
    metrics.observe(summary(200, 40.0, bytes_out=700), None, [pull()])
    metrics.observe(summary(404, 1.0), None, [])

    value = metrics.registry.get_sample_value
    ok = {"route": "manifest", "method": "GET", "status": "200"}
    assert value("berth_request_duration_seconds_count", ok) == 2
    assert value("berth_request_duration_seconds_bucket", {**ok, "le": "0.0025"}) == 1
    assert value("berth_request_duration_seconds_bucket", {**ok, "le": "0.05"}) == 2
    assert value("berth_request_duration_seconds_count", {**ok, "status": "404"}) == 1
    assert value("berth_repository_operations_total", {"operation": "Pull"}) == 2
    assert value("berth_bytes_sent_total") == 1200
    assert value("berth_bytes_received_total") == 0
