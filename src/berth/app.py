"""Builds the ASGI application from settings and wires the parts together.

Requests for ``/v2``, ``/oauth2/`` and ``/acr/`` go to the registry plane (selected by
Host); everything else (directory, management API, OpenAPI document) to the service plane.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from berth.access.controller import TokenAccessController
from berth.access.keys import Keyring
from berth.access.limits import LoginLimits
from berth.access.model import AccessController, AllowAll
from berth.access.principals import PrincipalResolver
from berth.access.secrets import SecretVerifier
from berth.access.service import AccessService
from berth.config import Settings
from berth.content.collector import GarbageCollector
from berth.content.janitor import UploadJanitor
from berth.directory.bootstrap import bootstrap_owner
from berth.directory.endpoints import DirectoryEndpoints
from berth.directory.managed_endpoint import ManagedIdentityEndpoint
from berth.directory.service import Directory
from berth.directory.tokens import DirectoryTokens
from berth.diskspace import DiskSpace
from berth.errors import JSON_CONTENT_TYPE
from berth.events.metrics import Metrics
from berth.events.recorder import EventRecorder
from berth.events.requestlog import RequestLog, ServicePlaneLog
from berth.management.api import build_service_plane
from berth.management.api.errors import arm_error
from berth.management.authz import ManagementAuth
from berth.management.logs import LogsAdmin
from berth.management.principals import PrincipalAdmin
from berth.management.registries import RegistryAdmin
from berth.management.scoped_access import ScopedAccessAdmin
from berth.management.service import Management
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.portal.routes import build_portal
from berth.registry.dispatch import RegistryPlane
from berth.registry.hosts import RegistryDirectory
from berth.registry.routes import ROUTES
from berth.services import Services
from berth.storage.configured import build_storage
from berth.tenancy import Tenancy

log = logging.getLogger("berth")

REGISTRY_PREFIXES = ("/v2", "/oauth2/", "/acr/")

INSECURE_WARNING = (
    "UNSAFE: insecure_no_auth is on — every request to every registry is allowed without "
    "credentials. Use it only for local experiments."
)


def _not_found(request: Request, exc: Exception) -> Response:
    """The service plane is ARM-shaped: its unknown paths answer in ARM's envelope."""
    return arm_error("NotFound", f"No endpoint at {request.url.path}.", 404)


def _method_not_allowed(request: Request, exc: Exception) -> Response:
    answer = arm_error("MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}.", 405)
    if isinstance(exc, HTTPException):
        answer.headers.update(exc.headers or {})
    return answer


def _health_endpoint(disk: DiskSpace) -> Callable[[Request], Awaitable[Response]]:
    """``/healthz``: the service answers, and its storage is ``ok``, ``low`` or ``full``."""

    async def health(request: Request) -> Response:
        body = json.dumps({"status": "ok", "storage": disk.status()}, separators=(",", ":"))
        return Response(body, media_type=JSON_CONTENT_TYPE)

    return health


class BerthApp:
    """The whole service as one ASGI callable."""

    def __init__(
        self,
        services: Services,
        service_routes: list[BaseRoute] | None = None,
        on_startup: list[Callable[[], Any]] | None = None,
        on_shutdown: list[Callable[[], Any]] | None = None,
    ) -> None:
        self.services = services
        self.registry_plane = RegistryPlane(services, ROUTES)
        health = Route("/healthz", _health_endpoint(services.disk))
        routes: list[BaseRoute] = [health, *(service_routes or [])]
        self.service_plane = ServicePlaneLog(
            build_service_plane(
                services, routes, not_found=_not_found, method_not_allowed=_method_not_allowed
            ),
            services.request_log,
            services.trusted_proxies,
        )
        self._on_startup = on_startup or []
        self._on_shutdown = on_shutdown or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].startswith(REGISTRY_PREFIXES):
                await self.registry_plane(scope, receive, send)
            else:
                await self.service_plane(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def startup(self) -> None:
        """Create the default registry and run the start-up hooks; idempotent."""
        services = self.services
        services.db.write_sync(registry_rows.ensure, services.settings.default_registry)
        for hook in self._on_startup:
            hook()
        if services.settings.insecure_no_auth:
            log.warning(INSECURE_WARNING)

    def shutdown(self) -> None:
        for hook in self._on_shutdown:
            hook()
        self.services.db.dispose()


def build_app(settings: Settings) -> BerthApp:
    db = Database(settings.resolved_database_url)
    db.create_schema()
    tenancy = Tenancy.load(db)
    keyring = Keyring(db)
    keyring.load()
    verifier = SecretVerifier()
    directory_tokens = DirectoryTokens(
        keyring, tenancy.tenant_id, f"{settings.service_url}/{tenancy.tenant_id}/v2.0"
    )
    auth = AccessService(
        settings,
        keyring,
        PrincipalResolver(db, tenancy, verifier, anonymous_catalog=settings.anonymous_pull_lists_catalog),
        LoginLimits(
            settings.auth_failures_per_ip,
            settings.auth_failures_per_identity,
            settings.auth_failure_window_seconds,
            settings.auth_failures_per_identity_total,
        ),
        directory_tokens,
    )
    access: AccessController = AllowAll() if settings.insecure_no_auth else TokenAccessController(auth)
    storage = build_storage(settings)
    registries = RegistryDirectory(db)
    directory_service = Directory(db, verifier)
    services = Services(
        settings=settings,
        db=db,
        storage=storage,
        access=access,
        auth=auth,
        registries=registries,
        tenancy=tenancy,
        management=Management(
            auth=ManagementAuth(db, directory_tokens),
            registries=RegistryAdmin(settings, db, tenancy, storage, registries),
            scoped=ScopedAccessAdmin(db),
            principals=PrincipalAdmin(db, tenancy, directory_service),
            logs=LogsAdmin(db),
        ),
    )
    directory = DirectoryEndpoints(services, directory_service, directory_tokens)
    recorder = EventRecorder(db, Metrics(), settings.event_retention_days)
    services.observer = recorder
    janitor = UploadJanitor(db, storage, settings.upload_max_age_hours * 3600.0)
    collector = GarbageCollector(db, storage)
    services.disk = _disk_space(settings, db)
    services.request_log = RequestLog(settings.request_log, settings.request_log_sample)
    portal = build_portal(services, directory.authorization, directory_tokens) if settings.portal else []
    return BerthApp(
        services,
        service_routes=[
            *directory.routes(),
            *ManagedIdentityEndpoint(services, directory_tokens).routes(),
            *portal,
        ],
        on_startup=[
            lambda: bootstrap_owner(settings, db, tenancy),
            lambda: _start_events(settings, recorder),
            janitor.start,
            collector.start,
        ],
        on_shutdown=[collector.stop, janitor.stop, recorder.stop],
    )


def _disk_space(settings: Settings, db: Database) -> DiskSpace:
    """The volumes berth writes to: blob storage, and a SQLite database's folder."""
    paths = [settings.resolved_storage_path] if settings.storage_driver == "filesystem" else []
    database = make_url(db.url).database if db.is_sqlite else None
    if database and database != ":memory:":
        paths.append(Path(database).parent)
    return DiskSpace(paths, settings.storage_low_free_mb * 1024 * 1024)


def _start_events(settings: Settings, recorder: EventRecorder) -> None:
    recorder.start()
    if settings.metrics_listen:
        recorder.metrics.serve(settings.metrics_listen)
