"""What the registry plane reports about each finished request (for events and metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from berth.access.model import AuthOutcome, Denial, Grant
from berth.metadata.registries import RegistryRecord
from berth.registry.context import RepositoryOperation


@dataclass
class RequestSummary:
    method: str
    path: str
    route: str
    status: int
    duration_ms: float
    client_ip: str
    user_agent: str
    correlation_id: str
    login_server: str
    registry: RegistryRecord | None = None
    grant: Grant | None = None
    denial: Denial | None = None
    auth: AuthOutcome | None = None
    operations: list[RepositoryOperation] = field(default_factory=list)
    bytes_in: int = 0
    bytes_out: int = 0


class PlaneObserver(Protocol):
    def request_finished(self, summary: RequestSummary) -> None: ...


class NoObserver:
    def request_finished(self, summary: RequestSummary) -> None:
        return None
