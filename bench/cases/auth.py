"""Hooks for issue 3's measurements; they run once a server spec has the ``token-auth`` capability.

No spec has that capability yet, so the runner lists these as skipped. berth's token service
has since landed (``registry/handlers/oauth2.py``); to enable them:

1. Add a second berth spec (subject ``"berth"``, capabilities ``{"token-auth"}``) that starts
   berth *without* ``--insecure-no-auth`` and with ``BERTH_BOOTSTRAP_PASSWORD`` set, and seed a
   credential through the management API: a directory token for the owner user
   (``POST /<tenant>/oauth2/v2.0/token``), then the default registry's admin user
   (``adminUserEnabled`` and ``regenerateCredential``, see ``docs/management-api.md``). The
   runner must then not note the blob and manifest cases as skipped for that second spec.
2. Basic → access: ``GET /oauth2/token?service=<host>&scope=repository:bench/manifest:pull`` with
   ``Authorization: Basic``. Refresh → access: ``POST /oauth2/token`` with
   ``grant_type=refresh_token&refresh_token=...&service=...&scope=...``; a refresh token comes
   from ``POST /oauth2/exchange`` (a directory access token) or from the GET above as the
   null-GUID user with ``offline_token=true``. Drive both with wrk: a second Lua script beside
   ``bench/wrk_report.lua`` sets ``wrk.method``, ``wrk.body`` and the form content type.
3. Bearer GETs: fetch one access token, then call :func:`bench.cases.manifests.load` with an
   ``Authorization: Bearer ...`` header, reusing its warm-up and error checks.

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
