"""One benchmark run: make the payload, then start each server alone and run every case on it."""

from __future__ import annotations

import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType

from bench import hashrate, plots
from bench import options as cli
from bench import payload as payloads
from bench.cases import Case, CaseContext, CaseSkipped, all_cases, docker_clients
from bench.cases.auth import TOKEN_AUTH
from bench.cases.growth import SEEDABLE
from bench.cases.object_storage import servers as object_store_servers
from bench.cases.request_log import REQUEST_LOG, REQUEST_LOG_ARGS
from bench.options import RESULTS_DIR, Options
from bench.profiling import Profiler, ProfilerMissing
from bench.report import Run, summary, write_json
from bench.servers import (
    REGISTRY,
    BerthSpec,
    DistributionSpec,
    RunningServer,
    ServerFailed,
    ServerSpec,
    SinkSpec,
    running,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def specs(options: Options, payload_file: Path) -> list[ServerSpec]:
    chosen: list[ServerSpec] = [SinkSpec(payload_file)] if options.ceiling else []
    if "distribution" in options.servers:
        chosen.append(DistributionSpec(options.distribution_bin))
    if "berth" in options.servers:
        workers = options.berth_workers
        chosen.append(
            BerthSpec(
                options.berth_bin,
                capabilities=REGISTRY | {SEEDABLE},
                extra_args=options.berth_args,
                workers=workers,
            )
        )
        chosen.append(
            BerthSpec(
                options.berth_bin,
                label="berth (authentication on)",
                capabilities=TOKEN_AUTH | {SEEDABLE},
                extra_args=options.berth_args,
                authenticated=True,
                workers=workers,
            )
        )
        chosen.append(
            BerthSpec(
                options.berth_bin,
                label="berth (request log)",
                capabilities=REQUEST_LOG,
                extra_args=(*options.berth_args, *REQUEST_LOG_ARGS),
                workers=workers,
            )
        )
    return chosen


def run_cases(
    spec: ServerSpec,
    cases: Sequence[Case],
    ctx: CaseContext,
    workdir: Path,
    run: Run,
    siblings: Sequence[ServerSpec] = (),
) -> None:
    """Start ``spec`` alone, run each case it supports, stop it; failures are recorded, not raised.

    ``siblings`` are the other specs of the run: a case is noted as skipped for a subject only
    when none of that subject's specs can run it (berth runs twice: without and with auth).
    """
    applicable = [case for case in cases if case.requires <= spec.capabilities]
    if spec.subject != "client":
        same_subject = [s for s in siblings if s.subject == spec.subject and s is not spec]
        for case in cases:
            if case not in applicable and not any(case.requires <= s.capabilities for s in same_subject):
                missing = ", ".join(sorted(case.requires - spec.capabilities))
                run.note(run.skipped, spec.subject, case.name, f"the server lacks {missing}")
    if not applicable:
        return
    run.versions.setdefault(spec.subject, spec.version())
    run.load_average.setdefault(spec.subject, load_average())
    log(f"{spec.label}: {run.versions[spec.subject]} (load average {run.load_average[spec.subject]})")
    try:
        with running(spec, workdir / spec.label.replace(" ", "-")) as server:
            for case in applicable:
                _run_case(case, server, ctx, run)
    except ServerFailed as error:
        log(f"{spec.label} did not start: {error}")
        for case in applicable:
            run.note(run.failed, spec.subject, case.name, f"server did not start: {error}")


def _run_case(case: Case, server: RunningServer, ctx: CaseContext, run: Run) -> None:
    log(f"  {case.name} ...")
    started = time.perf_counter()
    try:
        run.record(server.subject, case.run(server, ctx))
    except CaseSkipped as skipped:
        run.note(run.skipped, server.subject, case.name, str(skipped))
    except Exception as error:
        log(f"  {case.name} FAILED: {type(error).__name__}: {error}")
        run.note(run.failed, server.subject, case.name, f"{type(error).__name__}: {error}")
    log(f"  {case.name} took {time.perf_counter() - started:.1f} s")


def load_average() -> str:
    """The 1-minute load average: other work on the machine skews every figure."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


@contextlib.contextmanager
def workspace(options: Options) -> Iterator[Path]:
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="berth-bench-", dir=options.workdir) as directory:
        yield Path(directory)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `running` block, stopping the servers


def main(argv: Sequence[str] | None = None) -> int:
    options = cli.parse(argv)
    try:
        profiler = Profiler(options.profile_dir) if options.profile_dir else None
    except ProfilerMissing as missing:
        log(str(missing))
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    run = Run(datetime.now().astimezone(), options)
    cases = all_cases(options)
    run.metrics = [hashrate.METRIC, *(metric for case in cases for metric in case.metrics)]
    begun = time.perf_counter()
    ceiling = hashrate.measure()
    run.record("client", {hashrate.KEY: ceiling})
    log(f"hash ceiling: SHA-256 at {ceiling.value:,.0f} MB/s on one core")
    with workspace(options) as workdir:
        log(f"writing a {options.size_mib} MiB payload in {workdir}")
        payload = payloads.generate(workdir, options.size)
        log(f"payload digest {payload.digest}")
        ctx = CaseContext(options, payload, log, profiler)
        with (
            object_store_servers(options) as on_object_stores,  # moto and Azurite, when chosen
            docker_clients.engine(options, workdir, log),  # a private dockerd, when chosen
        ):
            chosen = [*specs(options, payload.path), *on_object_stores]
            for spec in chosen:
                run_cases(spec, cases, ctx, workdir, run, chosen)
    output = options.output or RESULTS_DIR / f"{run.started:%Y%m%d-%H%M%S}.json"
    write_json(run, output)
    print(summary(run))
    plotted = plots.write_png(run.results, output.with_suffix(".png"))
    if plotted:
        log(plotted)
    log(f"\nresults written to {output} ({time.perf_counter() - begun:.0f} s in all)")
    return 1 if run.failed else 0
