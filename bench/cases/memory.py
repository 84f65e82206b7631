"""Server memory while a large blob streams in and out: it must not grow with the blob."""

from __future__ import annotations

from dataclasses import dataclass

from bench.cases import CaseContext, Samples
from bench.metrics import Bound, Flat, Metric, Sample
from bench.procs import group
from bench.registry import pull, push_monolithic
from bench.rss import MIB, RssSampler, idle_rss, rss_bytes
from bench.servers import RunningServer
from bench.wire import Client, HashingSink

REPOSITORY = "bench/big"
SLACK_MIB = 64.0
_FLAT = Flat("memory.idle", SLACK_MIB)


@dataclass(frozen=True)
class StreamingMemory:
    size_mib: int
    name: str = "memory"
    requires: frozenset[str] = frozenset({"memory"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        size = f"{self.size_mib // 1024} GiB" if self.size_mib % 1024 == 0 else f"{self.size_mib} MiB"
        return (
            Metric("memory.idle", "RSS idle (after the cases above)", "MiB", higher_is_better=False),
            Metric("memory.push", f"RSS peak, pushing {size}", "MiB", higher_is_better=False, target=_FLAT),
            Metric("memory.pull", f"RSS peak, pulling {size}", "MiB", higher_is_better=False, target=_FLAT),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        payload = ctx.payload.times(self.size_mib * MIB // ctx.payload.file_size)
        ctx.log(f"  hashing the {payload.size / 2**30:g} GiB blob")
        digest = payload.digest
        idle = idle_rss(server.pid) / MIB
        with Client(server.host, server.port) as client:
            with RssSampler(server.pid) as pushing:
                pushed = push_monolithic(client, REPOSITORY, payload)
            with RssSampler(server.pid) as pulling:
                pulled = pull(client, REPOSITORY, digest, HashingSink())
        push_peak, pull_peak = pushing.peak / MIB, pulling.peak / MIB
        ctx.log(
            f"  {server.spec.label} RSS idle {idle:.0f} MiB, peak push {push_peak:.0f} MiB "
            f"({pushed.mb_per_s:,.0f} MB/s), peak pull {pull_peak:.0f} MiB "
            f"({pulled.mb_per_s:,.0f} MB/s, hashed by the client on the way in)"
        )
        return {
            "memory.idle": Sample(idle),
            "memory.push": Sample(
                push_peak, (), {"mb_per_s": pushed.mb_per_s, "samples": len(pushing.samples)}
            ),
            "memory.pull": Sample(
                pull_peak, (), {"mb_per_s": pulled.mb_per_s, "samples": len(pulling.samples)}
            ),
        }


IDLE_TARGET = Bound(90, at_least=False, unit="MiB")


@dataclass(frozen=True)
class IdleMemory:
    """RSS of the largest process of the server right after it started (before any case).

    With worker processes each one holds its own copy of the imported code, so the target
    (≤ 90 MiB) is per process; the sum over the group is in the sample's detail.
    """

    name: str = "idle-rss"
    requires: frozenset[str] = frozenset({"memory"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (
            Metric(
                "memory.start",
                "RSS idle per process, at start",
                "MiB",
                higher_is_better=False,
                target=IDLE_TARGET,
            ),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        idle_rss(server.pid, seconds=0.5)  # let startup work settle
        pids = group(server.pid) or [server.pid]
        per_process = {pid: rss_bytes([pid]) / MIB for pid in pids}
        largest = max(per_process.values())
        ctx.log(
            f"  {server.spec.label} RSS at start: "
            + ", ".join(f"{rss:.0f}" for rss in per_process.values())
            + f" MiB over {len(pids)} process(es)"
        )
        return {
            "memory.start": Sample(
                largest,
                tuple(per_process.values()),
                {"processes": len(pids), "total_mib": sum(per_process.values())},
            )
        }
