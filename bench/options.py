"""Command-line options of ``python -m bench`` (``make bench BENCH_ARGS=...``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
MIB = 1024 * 1024
SERVERS = ("distribution", "berth")


@dataclass(frozen=True)
class Options:
    size_mib: int
    chunk_mib: int
    repeat: int
    big: bool
    big_factor: int
    duration: float
    warmup: float
    connections: int
    wrk_threads: int
    servers: tuple[str, ...]
    cases: tuple[str, ...]
    ceiling: bool
    berth_bin: str
    berth_args: tuple[str, ...]
    berth_workers: int
    distribution_bin: str
    growth: bool
    growth_repositories: tuple[int, ...]
    growth_tags: tuple[int, ...]
    growth_events: int
    growth_seconds: float
    docker_clients: int
    docker_layers: int
    docker_layer_mib: int
    workdir: Path | None
    output: Path | None
    profile_dir: Path | None

    @property
    def size(self) -> int:
        return self.size_mib * MIB

    @property
    def chunk_size(self) -> int:
        return self.chunk_mib * MIB


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark berth against the CNCF Distribution registry, one after the other.",
    )
    add = parser.add_argument
    add("--size-mib", type=int, default=1024, help="blob size for push and pull (default 1024)")
    add("--chunk-mib", type=int, default=16, help="PATCH size for chunked pushes (default 16)")
    add("--repeat", type=int, default=3, help="runs per blob measurement; the median is reported")
    add(
        "--big",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="stream a blob of --big-factor x --size-mib in and out while sampling RSS (default on)",
    )
    add("--big-factor", type=int, default=4, help="size of the --big blob in multiples of --size-mib")
    add("--duration", type=float, default=10.0, help="seconds of manifest GET load (default 10)")
    add("--warmup", type=float, default=2.0, help="seconds of load before each timed load")
    add("--connections", type=int, default=64, help="concurrent manifest GET connections (default 64)")
    add("--wrk-threads", type=int, default=2, help="wrk threads (default 2, one per core)")
    add("--servers", default=",".join(SERVERS), help="comma-separated subset of: distribution,berth")
    add("--cases", default="", help="comma-separated case names to run (default all)")
    add(
        "--ceiling",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the client against bench/sink.py first (default on)",
    )
    add("--berth-bin", default=str(REPO_ROOT / ".venv" / "bin" / "berth"), help="berth executable")
    add("--berth-arg", action="append", default=[], help="extra argument to `berth serve` (repeatable)")
    add(
        "--berth-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="`berth serve --workers N` when berth has that option (default: the number of cores; "
        "0: never pass it)",
    )
    add("--distribution-bin", default="docker-registry", help="Distribution executable")
    add(
        "--growth",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the growth cases (repositories, tags, catalog walk, events; default on)",
    )
    add("--growth-repositories", default="1,1000,100000", help="repository counts of the growth curve")
    add("--growth-tags", default="10,1000,10000", help="tag counts of the growth curve")
    add("--growth-events", type=int, default=10_000_000, help="stored events for the log queries")
    add("--growth-seconds", type=float, default=3.0, help="seconds of load per growth point (default 3)")
    add(
        "--docker-clients",
        type=int,
        default=0,
        help="run the docker-clients case with this many concurrent `docker push` clients "
        "(issue 14: 20; default 0, off: it needs dockerd and a few GiB of disk)",
    )
    add("--docker-layers", type=int, default=10, help="layers per docker-clients image (default 10)")
    add("--docker-layer-mib", type=int, default=20, help="MiB per docker-clients layer (default 20)")
    add(
        "--quick",
        action="store_true",
        help="a short run: 256 MiB blobs, one repetition, 3 s loads, no 4 GiB stream, smaller growth "
        "(1,000 repositories, 1,000 tags, 1 million events)",
    )
    add("--workdir", type=Path, help="folder for the payload and server data (default: a temp dir)")
    add("--output", type=Path, help="JSON result path (default bench/results/<timestamp>.json)")
    add("--profile-dir", type=Path, help="record py-spy profiles of berth per case into this folder")
    args = parser.parse_args(argv)

    servers = tuple(name for name in args.servers.split(",") if name)
    unknown = set(servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if args.size_mib <= 0 or args.chunk_mib <= 0 or args.repeat <= 0 or args.big_factor <= 0:
        parser.error("sizes, --repeat and --big-factor must be positive")
    if args.docker_clients < 0 or args.docker_layers <= 0 or args.docker_layer_mib <= 0:
        parser.error("--docker-clients must be >= 0, --docker-layers and --docker-layer-mib positive")
    if args.quick:
        args.size_mib, args.repeat, args.duration, args.warmup, args.big = 256, 1, 3.0, 1.0, False
        args.growth_repositories, args.growth_tags, args.growth_events = (
            "1,100,1000",
            "10,100,1000",
            1_000_000,
        )
        args.growth_seconds = 2.0
    try:
        growth_repositories = _counts(args.growth_repositories)
        growth_tags = _counts(args.growth_tags)
    except ValueError as error:
        parser.error(str(error))
    return Options(
        size_mib=args.size_mib,
        chunk_mib=args.chunk_mib,
        repeat=args.repeat,
        big=args.big,
        big_factor=args.big_factor,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        wrk_threads=args.wrk_threads,
        servers=servers,
        cases=tuple(name for name in args.cases.split(",") if name),
        ceiling=args.ceiling,
        berth_bin=args.berth_bin,
        berth_args=tuple(args.berth_arg),
        berth_workers=args.berth_workers,
        distribution_bin=args.distribution_bin,
        growth=args.growth,
        growth_repositories=growth_repositories,
        growth_tags=growth_tags,
        growth_events=args.growth_events,
        growth_seconds=args.growth_seconds,
        docker_clients=args.docker_clients,
        docker_layers=args.docker_layers,
        docker_layer_mib=args.docker_layer_mib,
        workdir=args.workdir,
        output=args.output,
        profile_dir=args.profile_dir,
    )


def _counts(text: str) -> tuple[int, ...]:
    """``1,1000,100000`` → increasing positive counts (a growth curve's points)."""
    counts = tuple(int(part) for part in text.split(",") if part.strip())
    if not counts or any(n <= 0 for n in counts) or list(counts) != sorted(set(counts)):
        raise ValueError(f"{text!r}: give increasing positive counts, comma-separated")
    return counts
