"""Hooks for issue 3's measurements; they run once a server spec has the ``token-auth`` capability.

Until berth authenticates, no spec has that capability, so the runner lists these as skipped.
To enable them:

1. In :class:`bench.servers.BerthSpec`, start berth with authentication on and a seeded user
   (and add ``"token-auth"`` to its capabilities); keep ``--insecure-no-auth`` for the other
   cases or run these on a second, authenticated instance.
2. Implement ``run`` below. Token requests are POSTs to ``/oauth2/token`` (or GETs with Basic
   credentials); :func:`bench.loadgen.run_wrk` takes a Lua script today only for its report, so
   give it a second script that sets ``wrk.method``/``wrk.body`` for the POST form. For the
   bearer case, fetch one access token first and pass ``Authorization: Bearer ...`` as a header
   to :func:`bench.cases.manifests.load`, reusing its warm-up and error checks.

Distribution has no token server of its own, so these are berth-only figures
(``candidate_only``); the bearer GET figure is judged against berth's anonymous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bench.cases import CaseContext, Samples
from bench.cases.manifests import load_metrics
from bench.metrics import AtLeastFractionOf, Metric
from bench.servers import RunningServer

TOKEN_AUTH = frozenset({"token-auth"})
Grant = Literal["basic", "refresh"]

_GRANT_LABELS = {"basic": "token requests, Basic → access", "refresh": "token requests, refresh → access"}


@dataclass(frozen=True)
class TokenRequests:
    """Access tokens per second for one grant (Basic credentials, or a refresh token)."""

    grant: Grant
    requires: frozenset[str] = TOKEN_AUTH

    @property
    def name(self) -> str:
        return f"token-{self.grant}"

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (Metric(f"token.{self.grant}.rps", _GRANT_LABELS[self.grant], "req/s", candidate_only=True),)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        raise NotImplementedError(f"{self.name}: measure once berth issues tokens (issue 3)")


@dataclass(frozen=True)
class AuthenticatedManifestGet:
    """Manifest GETs per second with a bearer token: ≥ 90% of the anonymous figure."""

    connections: int
    name: str = "manifest-get-bearer"
    requires: frozenset[str] = TOKEN_AUTH

    @property
    def metrics(self) -> tuple[Metric, ...]:
        target = AtLeastFractionOf("manifest.rps", 0.9, "anonymous GET")
        label = f"manifest GET with bearer token, {self.connections} connections"
        return load_metrics("manifest_bearer", label, target, candidate_only=True)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        raise NotImplementedError(f"{self.name}: measure once berth issues tokens (issue 3)")
