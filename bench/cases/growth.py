"""Growth: how berth's latency moves as the registry grows (issue 14), berth only.

- ``growth-repositories``: manifest GET and first tag-list page (``n=10``) p50/p99 with 1,
  1,000 and 100,000 repositories in the registry (the measured one has 10 tags; three runs
  at each size, medians), then with 10, 1,000 and 10,000 tags in a repository (one
  repository per count, at the largest repository count, measured in alternation over three
  rounds: medians);
- ``growth-catalog``: every page of ``/v2/_catalog`` and of ``/acr/v1/_catalog`` (``n=1000``)
  through all the repositories, timed one by one, three walks (each page's fastest): flat
  means the last tenth of the walk costs no more than 1.5x the first tenth;
- ``growth-events``: the queries behind ``berth acr logs --since 1h`` (both kinds of events,
  newest 100) and ``berth acr diagnose --correlation-id`` (failed logins with that id), through
  the management API, over ``--growth-events`` stored events (10 million): under 1 s each.

Seeding goes straight into the server's database (:mod:`bench.seed`). Each point is one metric
row in the table; :mod:`bench.plots` draws the curves next to the JSON record.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from bench.cases import CaseContext, Samples
from bench.cases.auth import _directory_token
from bench.loadgen import run_wrk
from bench.metrics import Bound, Metric, Sample, WithinFactorOf
from bench.registry import OCI_MANIFEST, push_image
from bench.seed import Seeder, correlation_id
from bench.servers import RunningServer
from bench.wire import Client

SEEDABLE = "seedable"  # berth's own database can be written by the bench
REPOSITORY = "bench/growth"
TAG = "latest"
LOAD_CONNECTIONS = 16
PAGE = 1000
# Tag-list pages of 10: every point's page then holds the same number of tags (the smallest
# repository has 10), so the curve shows the cost of the table, not of a longer answer.
TAG_PAGE = 10
FLAT = 1.5
ROUNDS = 3  # tag points measured in alternation, catalog walks repeated
_NEXT = re.compile(r"<([^>]+)>")


def _count(n: int) -> str:
    return f"{n:,}"


def _latency(
    server: RunningServer, ctx: CaseContext, path: str, headers: dict[str, str]
) -> tuple[float, float]:
    seconds = ctx.options.growth_seconds
    run_wrk(server.url + path, connections=LOAD_CONNECTIONS, seconds=1, threads=1, headers=headers)
    result = run_wrk(
        server.url + path, connections=LOAD_CONNECTIONS, seconds=seconds, threads=1, headers=headers
    )
    if result.failed:
        raise RuntimeError(f"{path}: {result.failed} failed requests {dict(result.errors)}")
    return result.p50_ms, result.p99_ms


@dataclass(frozen=True)
class RepositoryGrowth:
    repositories: tuple[int, ...]
    tags: tuple[int, ...]
    name: str = "growth-repositories"
    requires: frozenset[str] = frozenset({SEEDABLE, "manifests"})

    def _points(self) -> list[tuple[str, str]]:
        """(key part, label part) of each point, in the order they are measured."""
        points = [(f"repos.{n}", f"{_count(n)} repositories") for n in self.repositories]
        largest = _count(self.repositories[-1])
        points += [(f"tags.{n}", f"{_count(n)} tags ({largest} repositories)") for n in self.tags]
        return points

    @property
    def metrics(self) -> tuple[Metric, ...]:
        metrics = []
        for what, label in (("manifest", "manifest GET"), ("taglist", f"tag list, first page of {TAG_PAGE}")):
            first_repos = f"growth.{what}.repos.{self.repositories[0]}.p99"
            first_tags = f"growth.{what}.tags.{self.tags[0]}.p99"
            for point, point_label in self._points():
                key = f"growth.{what}.{point}"
                reference = first_tags if point.startswith("tags.") else first_repos
                target = WithinFactorOf(reference, FLAT) if key + ".p99" != reference else None
                metrics.append(
                    Metric(
                        f"{key}.p50", f"growth: {label}, {point_label}, p50", "ms", False, candidate_only=True
                    )
                )
                metrics.append(Metric(f"{key}.p99", "  p99", "ms", False, target=target, candidate_only=True))
        return tuple(metrics)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        by_tags = {n: f"{REPOSITORY}-tags-{n}" for n in self.tags}
        seeder = Seeder(server.workdir / "data")
        samples: Samples = {}
        try:
            with Client(server.host, server.port) as client:
                push_image(client, REPOSITORY, TAG)
            registry_id = seeder.registry_id()
            repository_id, digest = seeder.repository(registry_id, REPOSITORY)
            seeder.add_tags(repository_id, digest, 1, self.tags[0] - 1)  # "latest" is the first
            have = 1
            for n in self.repositories:
                started = time.perf_counter()
                if n > have:
                    seeder.add_repositories(registry_id, have, n - have)
                    have = n
                seeded = time.perf_counter() - started
                # Three runs in a row (medians), as the tag points: a p99 of a few milliseconds
                # moves by 2x between two 3-second runs on a shared 2-core machine.
                measured = [self._measure(server, ctx, f"repos.{n}", REPOSITORY, [seeded])]
                measured += [
                    self._measure(server, ctx, f"repos.{n}", REPOSITORY, []) for _ in range(ROUNDS - 1)
                ]
                samples.update(_medians(measured))
            with Client(server.host, server.port) as client:
                for repository in by_tags.values():
                    push_image(client, repository, TAG)
            for n, repository in by_tags.items():
                repository_id, digest = seeder.repository(registry_id, repository)
                seeder.add_tags(repository_id, digest, 1, n - 1)
        finally:
            seeder.close()
        # The tag points differ only in their repository, so they are measured in alternation
        # (round-robin, medians): load that comes and goes on a shared machine hits them alike.
        rounds: dict[int, list[Samples]] = {n: [] for n in self.tags}
        for _ in range(ROUNDS):
            for n, repository in by_tags.items():
                rounds[n].append(self._measure(server, ctx, f"tags.{n}", repository, []))
        for measured in rounds.values():
            samples.update(_medians(measured))
        return samples

    def _measure(
        self, server: RunningServer, ctx: CaseContext, point: str, repository: str, seeded: list[float]
    ) -> Samples:
        manifest = _latency(server, ctx, f"/v2/{repository}/manifests/{TAG}", {"Accept": OCI_MANIFEST})
        taglist = _latency(server, ctx, f"/v2/{repository}/tags/list?n={TAG_PAGE}", {})
        note = f" (seeded in {seeded[0]:.1f} s)" if seeded else ""
        ctx.log(
            f"  {point}: manifest GET p50/p99 {manifest[0]:.2f}/{manifest[1]:.2f} ms, "
            f"tag list {taglist[0]:.2f}/{taglist[1]:.2f} ms{note}"
        )
        return {
            f"growth.manifest.{point}.p50": Sample(manifest[0]),
            f"growth.manifest.{point}.p99": Sample(manifest[1]),
            f"growth.taglist.{point}.p50": Sample(taglist[0]),
            f"growth.taglist.{point}.p99": Sample(taglist[1]),
        }


def _medians(runs: list[Samples]) -> Samples:
    """Each metric's median over ``runs`` (the runs' values kept beside it)."""
    medians: Samples = {}
    for key in runs[0]:
        values = [run[key].value for run in runs]
        medians[key] = Sample(statistics.median(values), tuple(values))
    return medians


def walk(client: httpx.Client, first: str) -> list[float]:
    """Milliseconds per page, following ``Link: <…>; rel="next"`` from ``first`` to the end."""
    times = []
    url: str | None = first
    while url is not None:
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        found = _NEXT.match(response.headers.get("link", ""))
        url = found.group(1) if found else None
    return times


def _tenths(times: list[float]) -> tuple[float, float]:
    tenth = max(1, len(times) // 10)
    return statistics.mean(times[:tenth]), statistics.mean(times[-tenth:])


@dataclass(frozen=True)
class CatalogWalk:
    """Runs after :class:`RepositoryGrowth` on the same server (the repositories it seeded)."""

    name: str = "growth-catalog"
    requires: frozenset[str] = frozenset({SEEDABLE, "manifests"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        metrics = []
        for key, label in (("v2", "/v2/_catalog"), ("acr", "/acr/v1/_catalog")):
            prefix = f"growth.catalog.{key}"
            metrics += [
                Metric(
                    f"{prefix}.first",
                    f"growth: {label} walk, n={PAGE}: first tenth, per page",
                    "ms",
                    False,
                    candidate_only=True,
                ),
                Metric(
                    f"{prefix}.last",
                    "  last tenth, per page",
                    "ms",
                    False,
                    target=WithinFactorOf(f"{prefix}.first", FLAT),
                    candidate_only=True,
                ),
                Metric(f"{prefix}.pages", "  pages", "count", candidate_only=True),
            ]
        return tuple(metrics)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        samples: Samples = {}
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for key, path in (("v2", "/v2/_catalog"), ("acr", "/acr/v1/_catalog")):
                walks = [walk(client, f"{path}?n={PAGE}") for _ in range(ROUNDS)]
                # each page's fastest of the walks: a page slowed by other load once is not the query
                times = [min(page) for page in zip(*walks, strict=True)]
                first, last = _tenths(times)
                ctx.log(f"  {path}: {len(times)} pages, first tenth {first:.2f} ms/page, last {last:.2f}")
                samples[f"growth.catalog.{key}.first"] = Sample(first)
                samples[f"growth.catalog.{key}.last"] = Sample(last, tuple(round(t, 3) for t in times))
                samples[f"growth.catalog.{key}.pages"] = Sample(float(len(times)))
        return samples


@dataclass(frozen=True)
class EventGrowth:
    """The log queries over ``events`` stored events, through the management API (auth on)."""

    events: int
    name: str = "growth-events"
    requires: frozenset[str] = frozenset({SEEDABLE, "token-auth"})

    @property
    def metrics(self) -> tuple[Metric, ...]:
        size = _count(self.events)
        under = Bound(1000, at_least=False, unit="ms")
        return (
            Metric("growth.events.seed", f"growth: seeding {size} events", "s", False, candidate_only=True),
            Metric(
                "growth.events.logs",
                f"  acr logs --since 1h (login + repository), {size} events",
                "ms",
                False,
                target=under,
                candidate_only=True,
            ),
            Metric(
                "growth.events.diagnose",
                f"  diagnose --correlation-id, {size} events",
                "ms",
                False,
                target=under,
                candidate_only=True,
            ),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        seeder = Seeder(server.workdir / "data")
        try:
            registry_id = seeder.registry_id()
            started = time.perf_counter()
            seeder.add_events(registry_id, "default", self.events)
            seeded = time.perf_counter() - started
        finally:
            seeder.close()
        ctx.log(f"  seeded {self.events:,} events in {seeded:.1f} s")
        with httpx.Client(base_url=server.url, timeout=120) as client:
            token = _directory_token(client, "https://management.azure.com")
            client.headers["Authorization"] = f"Bearer {token}"
            registry = _registry_path(client)
            since = {"since": str(time.time() - 3600), "top": "100"}
            logs = _timed(
                client,
                [
                    f"{registry}/logs/login?{urlencode(since)}",
                    f"{registry}/logs/repository?{urlencode(since)}",
                ],
            )
            wanted = self.events - (self.events % 50)  # a failed login (every 50th event)
            query = urlencode({"status": "failed", "top": "200", "correlationId": correlation_id(wanted)})
            diagnose = _timed(client, [f"{registry}/logs/login?{query}"], expect_rows=True)
        ctx.log(f"  logs --since 1h {logs:.1f} ms, diagnose by correlation id {diagnose:.1f} ms")
        return {
            "growth.events.seed": Sample(seeded),
            "growth.events.logs": Sample(logs),
            "growth.events.diagnose": Sample(diagnose),
        }


def _registry_path(client: httpx.Client) -> str:
    subscription = client.get("/subscriptions").raise_for_status().json()["value"][0]["subscriptionId"]
    return (
        f"/subscriptions/{subscription}/resourceGroups/default"
        "/providers/Microsoft.ContainerRegistry/registries/default"
    )


def _timed(client: httpx.Client, urls: list[str], expect_rows: bool = False, runs: int = 3) -> float:
    """Median milliseconds of fetching every URL in turn (one CLI command's requests)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for url in urls:
            response = client.get(url, params={"api-version": "2023-07-01"})
            response.raise_for_status()
            if expect_rows and not response.json().get("value"):
                raise RuntimeError(f"{url}: no rows")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
