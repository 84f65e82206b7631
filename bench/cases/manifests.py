"""Manifest GET throughput and latency under concurrent load (wrk)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.cases import CaseContext, CaseSkipped, Samples
from bench.cpu import CpuMeter
from bench.loadgen import LoadFailed, LoadResult, run_wrk, wrk_available
from bench.metrics import AtLeastTimesBaseline, Bound, Metric, Sample, Target
from bench.registry import OCI_MANIFEST, push_image
from bench.servers import RunningServer
from bench.wire import Client

REPOSITORY = "bench/manifest"
TAG = "latest"


@dataclass(frozen=True)
class Load:
    result: LoadResult
    server_cpu_seconds: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_seconds / self.result.requests * 1e6


def load(
    server: RunningServer,
    ctx: CaseContext,
    path: str,
    headers: Mapping[str, str],
    what: str,
    form: str | None = None,
    *,
    connections: int | None = None,
    tolerate_errors: bool = False,
) -> Load:
    """Warm up, then measure ``connections`` (default ``--connections``) concurrent GETs of ``path``
    (or POSTs of ``form``); refuses any error unless ``tolerate_errors`` (errors are then counted)."""
    if not wrk_available():
        raise CaseSkipped("wrk is not installed (scripts/install-system-packages.sh installs it)")
    options = ctx.options
    url = f"{server.url}{path}"

    def measure(seconds: float) -> LoadResult:
        return run_wrk(
            url,
            connections=connections or options.connections,
            seconds=seconds,
            threads=options.wrk_threads,
            headers=headers,
            form=form,
        )

    if options.warmup > 0:
        measure(options.warmup)
    with CpuMeter(server.pid) as cpu:
        result = measure(options.duration)
    if result.failed and not tolerate_errors:
        raise LoadFailed(f"{what}: {result.failed} failed requests {dict(result.errors)}")
    measured = Load(result, cpu.seconds)
    ctx.log(
        f"  {server.spec.label} {what}: {result.per_second:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms; server CPU {measured.cpu_us_per_request:,.0f} us/request"
        + (f"; {result.failed} errors {dict(result.errors)}" if result.failed else "")
    )
    return measured


def load_samples(measured: Load, prefix: str) -> Samples:
    result = measured.result
    detail = {"requests": result.requests, "seconds": result.seconds, "p90_ms": result.p90_ms}
    return {
        f"{prefix}.rps": Sample(result.per_second, (result.per_second,), detail),
        f"{prefix}.p50": Sample(result.p50_ms),
        f"{prefix}.p99": Sample(result.p99_ms, (), {"max_ms": result.max_ms}),
        f"{prefix}.cpu": Sample(measured.cpu_us_per_request),
    }


def load_metrics(
    prefix: str, label: str, target: Target | None, *, candidate_only: bool = False
) -> tuple[Metric, ...]:
    """The four figures of a load: requests/s (with ``target``), p50, p99, server CPU."""
    return (
        Metric(f"{prefix}.rps", label, "req/s", target=target, candidate_only=candidate_only),
        Metric(f"{prefix}.p50", "  latency p50", "ms", False, candidate_only=candidate_only),
        Metric(f"{prefix}.p99", "  latency p99", "ms", False, candidate_only=candidate_only),
        Metric(f"{prefix}.cpu", "  server CPU per request", "us", False, candidate_only=candidate_only),
    )


@dataclass(frozen=True)
class ManifestGet:
    connections: int
    name: str = "manifest-get"
    requires: frozenset[str] = frozenset({"manifests"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        label = f"manifest GET, {self.connections} connections"
        return load_metrics("manifest", label, AtLeastTimesBaseline(1.0))

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        with Client(server.host, server.port) as client:
            push_image(client, REPOSITORY, TAG)
        path = f"/v2/{REPOSITORY}/manifests/{TAG}"
        with ctx.profiled(server, self.name):
            measured = load(server, ctx, path, {"Accept": OCI_MANIFEST}, "manifest GET")
        return load_samples(measured, "manifest")


@dataclass(frozen=True)
class ManyConnections:
    """Manifest GETs on 1,000 concurrent keep-alive connections: no errors, p99 < 500 ms.

    berth's default ``max_connections`` is 1,000 (per process), so this is the documented limit
    held open at once; wrk counts refused, reset and timed-out connections as errors.
    """

    connections: int = 1000
    name: str = "manifest-get-1000"
    requires: frozenset[str] = frozenset({"manifests"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        label = f"manifest GET, {self.connections:,} keep-alive connections"
        return (
            Metric("manifest_many.rps", label, "req/s", target=AtLeastTimesBaseline(1.0)),
            Metric("manifest_many.errors", "  errors", "count", False, target=Bound(0, at_least=False)),
            Metric("manifest_many.p99", "  latency p99", "ms", False, target=Bound(500, at_least=False)),
            Metric("manifest_many.cpu", "  server CPU per request", "us", False),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        with Client(server.host, server.port) as client:
            push_image(client, REPOSITORY, TAG)
        path = f"/v2/{REPOSITORY}/manifests/{TAG}"
        with ctx.profiled(server, self.name):
            measured = load(
                server,
                ctx,
                path,
                {"Accept": OCI_MANIFEST},
                f"manifest GET x{self.connections}",
                connections=self.connections,
                tolerate_errors=True,
            )
        samples = load_samples(measured, "manifest_many")
        samples["manifest_many.errors"] = Sample(
            float(measured.result.failed), (), dict(measured.result.errors)
        )
        return {key: value for key, value in samples.items() if not key.endswith(".p50")}
