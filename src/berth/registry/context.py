"""What a registry-plane handler receives: the request, its registry, services and grant."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from starlette.requests import Request

from berth import errors
from berth.access.model import Access, Action, AuthOutcome, Grant
from berth.content.blobs import BlobService
from berth.content.manifests import ManifestService
from berth.content.quota import StorageQuota
from berth.content.repositories import RepositoryService
from berth.content.sessions import UploadSessions
from berth.errors import WireError
from berth.events.observer import RepositoryOperation
from berth.metadata.registries import RegistryRecord
from berth.registry.numbers import bounded_decimal

if TYPE_CHECKING:
    from berth.services import Services

MAX_QUERY_INT = 2**31 - 1


@dataclass(eq=False)
class RequestContext:
    request: Request
    registry: RegistryRecord
    params: dict[str, str]
    services: Services
    correlation_id: str
    login_server: str  # the host the client addressed, lower case (the token "service")
    client_ip: str
    scheme: str
    grant: Grant | None = None
    auth: AuthOutcome | None = None  # set by the token endpoints
    operations: list[RepositoryOperation] = field(default_factory=list)

    @property
    def repository(self) -> str:
        return self.params["name"]

    @cached_property
    def blobs(self) -> BlobService:
        settings = self.services.settings
        redirect_seconds = settings.storage_redirect_seconds if settings.storage_redirect else 0
        return BlobService(
            self.registry.id, self.services.db, self.services.store_for(self.registry.id), redirect_seconds
        )

    @cached_property
    def uploads(self) -> UploadSessions:
        services = self.services
        quota = StorageQuota.of(self.registry, services.settings.default_storage_quota)
        return UploadSessions(
            self.registry.id, services.db, services.store_for(self.registry.id), services.hashes, quota
        )

    def may_pull(self, repository: str) -> bool:
        """Whether the caller may also pull ``repository`` of this registry (a mount's source)."""
        return self.grant is not None and self.grant.may(Access.repository(repository, Action.PULL))

    @cached_property
    def manifests(self) -> ManifestService:
        services = self.services
        return ManifestService(
            self.registry.id, services.db, services.store_for(self.registry.id), services.pull_cache
        )

    @cached_property
    def repositories(self) -> RepositoryService:
        return RepositoryService(self.registry.id, self.services.db, self.services.pull_cache)

    def query_int(self, name: str) -> int | None:
        """A non-negative integer query parameter (``n``), or PAGINATION_NUMBER_INVALID.

        Values past :data:`MAX_QUERY_INT` are taken as it: no page is that long, and the
        databases' integers are not unbounded.
        """
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return None
        value = bounded_decimal(raw, MAX_QUERY_INT)
        if value is None:
            raise WireError(
                errors.PAGINATION_NUMBER_INVALID, f"{name}={raw[:40]!r} is not a non-negative integer"
            )
        return value

    def query_last(self) -> str | None:
        """The ``last`` pagination marker, cut at its first NUL.

        No repository or tag name holds a NUL, so every name after ``a<NUL>...`` is after ``a``
        too: the cut keeps the meaning, and PostgreSQL cannot compare text holding a NUL.
        """
        raw = self.request.query_params.get("last") or ""
        return raw.split("\x00", 1)[0] or None

    def record(self, operation: RepositoryOperation) -> None:
        self.operations.append(operation)
