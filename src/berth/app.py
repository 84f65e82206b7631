"""Builds the ASGI application from settings and wires the parts together.

Requests for ``/v2``, ``/oauth2/`` and ``/acr/`` go to the registry plane (selected by
Host); everything else (directory, management API, OpenAPI document) to the service plane.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import make_url
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

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
from berth.invalidation import bus_for
from berth.management.authz import ManagementAuth
from berth.management.logs import LogsAdmin
from berth.management.principals import PrincipalAdmin
from berth.management.registries import RegistryAdmin
from berth.management.scoped_access import ScopedAccessAdmin
from berth.management.service import Management
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.metadata.usage import count_registries_without_counter
from berth.readiness import check_ready
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
    from berth.management.api.errors import arm_error  # loaded with the service plane

    return arm_error("NotFound", f"No endpoint at {request.url.path}.", 404)


def _method_not_allowed(request: Request, exc: Exception) -> Response:
    from berth.management.api.errors import arm_error  # loaded with the service plane

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


def _ready_endpoint(services: Services) -> Callable[[Request], Awaitable[Response]]:
    """``/readyz``: 200 when this process can serve (see :func:`berth.readiness.check`), else
    503 naming what failed, so a balancer takes it out of rotation."""

    async def ready(request: Request) -> Response:
        problems = await check_ready(services)
        status = 503 if problems else 200
        body = {"status": "unavailable" if problems else "ready", **problems}
        return Response(json.dumps(body, separators=(",", ":")), status, media_type=JSON_CONTENT_TYPE)

    return ready


class LazyServicePlane:
    """The service plane (management API, directory, ``/healthz``), built on its first request.

    Its FastAPI application and pydantic models are 20 to 30 MiB of berth's resident memory
    (docs/performance.md, idle memory); a process that only ever serves the registry plane
    never loads them. The first request builds it in a worker thread, so the event loop keeps
    serving registry requests while the modules import.
    """

    def __init__(
        self, services: Services, routes: list[BaseRoute], later_routes: Callable[[], list[BaseRoute]]
    ) -> None:
        self._services = services
        self._routes = routes
        self._later_routes = later_routes  # routes whose modules load with the plane (the portal)
        self._app: ASGIApp | None = None
        self._building = threading.Lock()  # a thread lock: requests may come from several loops

    def build(self) -> ASGIApp:
        with self._building:
            if self._app is None:
                from berth.management.api import build_service_plane

                routes = [*self._routes, *self._later_routes()]
                self._app = build_service_plane(
                    self._services, routes, not_found=_not_found, method_not_allowed=_method_not_allowed
                )
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            app = await anyio.to_thread.run_sync(self.build)
        await app(scope, receive, send)


class BerthApp:
    """The whole service as one ASGI callable."""

    def __init__(
        self,
        services: Services,
        service_routes: list[BaseRoute] | None = None,
        later_service_routes: Callable[[], list[BaseRoute]] = list,
        on_startup: list[Callable[[], Any]] | None = None,
        on_shutdown: list[Callable[[], Any]] | None = None,
    ) -> None:
        self.services = services
        self.registry_plane = RegistryPlane(services, ROUTES)
        health = Route("/healthz", _health_endpoint(services.disk))
        ready = Route("/readyz", _ready_endpoint(services))
        routes: list[BaseRoute] = [health, ready, *(service_routes or [])]
        self.service_plane = ServicePlaneLog(
            LazyServicePlane(services, routes, later_service_routes),
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


def prepare(settings: Settings) -> None:
    """The one-time start-up work (schema, first signing key, default registry, owner user),
    done once before several workers start, so they never race on it."""
    db = Database(settings.resolved_database_url)
    try:
        first_start(settings, db)
    finally:
        db.dispose()


def first_start(settings: Settings, db: Database) -> tuple[Tenancy, Keyring]:
    """The work a new or upgraded database needs before anything is served: missing tables,
    columns and indexes, the tenant's ids, the first signing key, the default registry and the
    owner user. Idempotent, and run under :meth:`Database.startup_lock`, so replicas starting
    together on one PostgreSQL database do it one at a time (one owner, one first key)."""
    with db.startup_lock():
        db.create_schema()
        tenancy = Tenancy.load(db)
        keyring = Keyring(db)
        keyring.load()
        db.write_sync(registry_rows.ensure, settings.default_registry)
        bootstrap_owner(settings, db, tenancy)
    return tenancy, keyring


def build_app(settings: Settings) -> BerthApp:
    db = Database(settings.resolved_database_url)
    tenancy, keyring = first_start(settings, db)
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
    collector = GarbageCollector(db, storage, settings.gc_grace_seconds)
    services.disk = _disk_space(settings, db)
    services.request_log = RequestLog(settings.request_log, settings.request_log_sample)
    bus = bus_for(db, settings.resolved_workers)
    for part in (services.pull_cache, registries, keyring, auth.limits):
        part.attach(bus)

    def portal() -> list[BaseRoute]:
        from berth.portal.routes import build_portal  # loaded with the service plane

        return build_portal(services, directory.authorization, directory_tokens) if settings.portal else []

    return BerthApp(
        services,
        service_routes=[
            *directory.routes(),
            *ManagedIdentityEndpoint(services, directory_tokens).routes(),
        ],
        later_service_routes=portal,
        on_startup=[
            bus.start,
            lambda: db.write_sync(count_registries_without_counter),
            lambda: _start_events(settings, recorder),
            janitor.start,
            collector.start,
        ],
        on_shutdown=[collector.stop, janitor.stop, recorder.stop, bus.stop],
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
