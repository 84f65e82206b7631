"""The request log's cost: manifest GETs per second on a berth that logs every request.

The other berth runs use ``--log-level warning``, which leaves the request log out; this one
runs ``--insecure-no-auth --log-level info`` (the default level), writing one line per request
to its log file, and is judged against berth's figure without it (target: at least 90%).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.cases import CaseContext, Samples
from bench.cases.manifests import REPOSITORY, TAG, load, load_metrics, load_samples
from bench.metrics import AtLeastFractionOf, Metric
from bench.registry import OCI_MANIFEST, push_image
from bench.servers import RunningServer
from bench.wire import Client

REQUEST_LOG = frozenset({"request-log"})
REQUEST_LOG_ARGS = ("--log-level", "info")


@dataclass(frozen=True)
class LoggedManifestGet:
    connections: int
    name: str = "manifest-get-logged"
    requires: frozenset[str] = REQUEST_LOG

    @property
    def metrics(self) -> tuple[Metric, ...]:
        target = AtLeastFractionOf("manifest.rps", 0.9, "GET without the request log")
        label = f"manifest GET with the request log, {self.connections} connections"
        return load_metrics("manifest_logged", label, target, candidate_only=True)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        with Client(server.host, server.port) as client:
            push_image(client, REPOSITORY, TAG)
        path = f"/v2/{REPOSITORY}/manifests/{TAG}"
        with ctx.profiled(server, self.name):
            measured = load(server, ctx, path, {"Accept": OCI_MANIFEST}, self.name)
        return load_samples(measured, "manifest_logged")
