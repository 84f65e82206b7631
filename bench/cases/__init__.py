"""Benchmark cases: each measures a few metrics on one running server.

A case declares its metrics (with their targets, for the report) and the server capabilities
it needs; the runner runs every case whose needs a server meets and records the rest as
skipped. To add a measurement, write a class with ``name``, ``metrics``, ``requires`` and
``run`` and list it in :func:`all_cases` — see :mod:`bench.cases.auth` for the ones issue 3
adds once berth has authentication.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from bench.metrics import Metric, Sample
from bench.options import Options
from bench.payload import Payload
from bench.profiling import Profiler
from bench.servers import RunningServer

Samples = dict[str, Sample]


class CaseSkipped(Exception):
    """Raised by a case that cannot run here (a tool is missing, say); not a failure."""


@dataclass(frozen=True)
class CaseContext:
    options: Options
    payload: Payload
    log: Callable[[str], None]
    profiler: Profiler | None = None

    @contextlib.contextmanager
    def profiled(self, server: RunningServer, name: str) -> Iterator[None]:
        """Record a py-spy profile of ``server`` around a block, when profiling berth."""
        if self.profiler is None or server.subject != "berth":
            yield
            return
        with self.profiler.section(server.pid, name):
            yield


class Case(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def metrics(self) -> tuple[Metric, ...]: ...

    @property
    def requires(self) -> frozenset[str]: ...

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        """Measure; returns one sample per metric key it measured."""
        ...


def median_sample(runs: list[float], **detail: object) -> Sample:
    return Sample(statistics.median(runs), tuple(runs), detail)


def all_cases(options: Options) -> list[Case]:
    from bench.cases.auth import AuthenticatedManifestGet, TokenRequests
    from bench.cases.blobs import Pull, PushChunked, PushMonolithic
    from bench.cases.manifests import ManifestGet, ManyConnections
    from bench.cases.memory import IdleMemory, StreamingMemory
    from bench.cases.object_storage import object_cases
    from bench.cases.request_log import LoggedManifestGet

    cases: list[Case] = [
        IdleMemory(),  # first: the server as it started
        PushMonolithic(options.size_mib),
        PushChunked(options.size_mib, options.chunk_mib),
        Pull(options.size_mib),
        ManifestGet(options.connections),
        ManyConnections(1000),
        # Issue 3 (authentication): these run once berth's spec gains the "token-auth" capability.
        TokenRequests("basic"),
        TokenRequests("refresh"),
        AuthenticatedManifestGet(options.connections),
        LoggedManifestGet(options.connections),  # on the "berth (request log)" spec
    ]
    cases += object_cases(options)  # on the object storage specs of bench.cases.object_storage
    if options.big:
        cases.append(StreamingMemory(options.size_mib * options.big_factor))
    if options.growth:
        from bench.cases.growth import CatalogWalk, EventGrowth, RepositoryGrowth

        cases += [
            RepositoryGrowth(options.growth_repositories, options.growth_tags),
            CatalogWalk(),  # walks the repositories RepositoryGrowth seeded, on the same server
            EventGrowth(options.growth_events),
        ]
    if options.docker_clients:
        from bench.cases.docker_clients import DockerClients

        cases.append(DockerClients(options.docker_clients, options.docker_layers, options.docker_layer_mib))
    if options.cases:
        cases = [case for case in cases if case.name in options.cases]
    return cases
