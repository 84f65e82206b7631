"""What the planes report about each finished request (for events, metrics and the request log).

The contract lives here, under ``events/``, so that neither the registry plane nor the services
it is handed import the events that consume it.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from berth.access.model import AuthOutcome, Denial, Grant
from berth.metadata.registries import RegistryRecord


@dataclass
class RepositoryOperation:
    """A push, pull, delete or untag a handler completed; the dispatcher records it as an event."""

    operation: str  # Push, Pull, Delete, Untag
    repository: str
    tag: str = ""
    digest: str = ""
    media_type: str = ""
    artifact_type: str = ""
    size: int = 0
    reason: str = ""  # why a refused operation failed (e.g. storage_quota_exceeded)
    detail: str = ""


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
    caller: str = ""  # the service plane's authenticated caller, for the request log


def new_correlation_id() -> str:
    """A random UUID from the system's CSPRNG: the id of a rejected request is what lets its
    holder ask why (``/acr/v1/_diagnostics/requests/<id>``), so it must not be guessable."""
    return str(uuid.UUID(bytes=os.urandom(16), version=4))


class PlaneObserver(Protocol):
    def request_finished(self, summary: RequestSummary) -> None: ...


class NoObserver:
    def request_finished(self, summary: RequestSummary) -> None:
        return None
