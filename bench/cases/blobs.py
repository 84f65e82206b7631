"""Blob throughput: monolithic and chunked pushes, and pulls, of one large blob."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bench import hashrate
from bench.cases import CaseContext, Samples, median_sample
from bench.cpu import CpuMeter
from bench.metrics import AllOf, AtLeastFractionOf, AtLeastTimesBaseline, Metric, Target
from bench.payload import Payload
from bench.registry import Transfer, pull, push_chunked, push_monolithic
from bench.servers import RunningServer
from bench.wire import BufferSink, Client

# Issue 14's targets: pushes near one core's SHA-256 rate, pulls near the client's ceiling.
MONOLITHIC_TARGET = AllOf(
    (AtLeastTimesBaseline(3.5), AtLeastFractionOf(hashrate.KEY, 0.85, "hash ceiling", subject="client"))
)
CHUNKED_TARGET = AtLeastTimesBaseline(3.0)
PULL_TARGET = AllOf(
    (AtLeastTimesBaseline(1.2), AtLeastFractionOf("pull", 0.85, "client max", subject="client"))
)
PULL_REPOSITORY = "bench/pull"
GIB = 1024**3


def _size_label(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def _metrics(key: str, label: str, target: Target, *, hash_bound: bool = False) -> tuple[Metric, ...]:
    return (
        Metric(key, label, "MB/s", target=target, hash_bound=hash_bound),
        Metric(f"{key}.cpu", "  server CPU per GiB", "s", higher_is_better=False),
    )


# Each push run sends a blob of its own (bench/payload.py, Payload.variant), numbered apart per case.
MONOLITHIC_VARIANTS = 1
CHUNKED_VARIANTS = 1001


def _new_blob(ctx: CaseContext, number: int) -> Payload:
    payload = ctx.payload.variant(number)
    payload.digest  # noqa: B018  (hashed now, before the server's CPU is metered)
    return payload


def _timed(server: RunningServer, measure: Callable[[], Transfer]) -> tuple[Transfer, float]:
    with CpuMeter(server.pid) as cpu:
        transfer = measure()
    return transfer, cpu.seconds / (transfer.size / GIB)


def _samples(
    key: str, runs: list[tuple[Transfer, float]], server: RunningServer, ctx: CaseContext
) -> Samples:
    rates = [transfer.mb_per_s for transfer, _ in runs]
    cpu = [per_gib for _, per_gib in runs]
    ctx.log(
        f"  {server.spec.label} {key}: "
        + ", ".join(f"{rate:,.0f}" for rate in rates)
        + " MB/s; server CPU "
        + ", ".join(f"{c:.2f}" for c in cpu)
        + " s/GiB"
    )
    seconds = [round(transfer.seconds, 3) for transfer, _ in runs]
    return {
        key: median_sample(rates, seconds=seconds, bytes=runs[0][0].size),
        f"{key}.cpu": median_sample(cpu),
    }


@dataclass(frozen=True)
class PushMonolithic:
    size_mib: int
    name: str = "push-monolithic"
    requires: frozenset[str] = frozenset({"blobs"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        label = f"push {_size_label(self.size_mib)}, monolithic PUT"
        return _metrics("push.monolithic", label, MONOLITHIC_TARGET, hash_bound=True)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        runs = []
        with Client(server.host, server.port) as client, ctx.profiled(server, self.name):
            for run in range(ctx.options.repeat):
                repository = f"bench/monolithic-{run}"
                payload = _new_blob(ctx, MONOLITHIC_VARIANTS + run)
                runs.append(_timed(server, partial(push_monolithic, client, repository, payload)))
        return _samples("push.monolithic", runs, server, ctx)


@dataclass(frozen=True)
class PushChunked:
    size_mib: int
    chunk_mib: int
    name: str = "push-chunked"
    requires: frozenset[str] = frozenset({"blobs"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        label = f"push {_size_label(self.size_mib)}, chunked PATCH ({self.chunk_mib} MiB)"
        return _metrics("push.chunked", label, CHUNKED_TARGET, hash_bound=True)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        runs = []
        chunk = ctx.options.chunk_size
        with Client(server.host, server.port) as client, ctx.profiled(server, self.name):
            for run in range(ctx.options.repeat):
                repository = f"bench/chunked-{run}"
                payload = _new_blob(ctx, CHUNKED_VARIANTS + run)
                runs.append(_timed(server, partial(push_chunked, client, repository, payload, chunk)))
        return _samples("push.chunked", runs, server, ctx)


@dataclass(frozen=True)
class Pull:
    size_mib: int
    name: str = "pull"
    requires: frozenset[str] = frozenset({"blobs"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return _metrics("pull", f"pull {_size_label(self.size_mib)}, GET", PULL_TARGET)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        payload = ctx.payload
        sink = BufferSink(payload.size)
        runs = []
        with Client(server.host, server.port) as client:
            push_monolithic(client, PULL_REPOSITORY, payload)  # untimed: the blob to pull
            with ctx.profiled(server, self.name):
                for _ in range(ctx.options.repeat):
                    runs.append(_timed(server, partial(pull, client, PULL_REPOSITORY, payload.digest, sink)))
        return _samples("pull", runs, server, ctx)
