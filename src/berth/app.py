"""Builds the ASGI application from settings and wires the parts together.

Requests for ``/v2``, ``/oauth2/`` and ``/acr/`` go to the registry plane (selected by
Host); everything else (directory, management API, OpenAPI document) to the service plane.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from berth import errors
from berth.access.model import AccessController, AllowAll
from berth.config import Settings
from berth.errors import JSON_CONTENT_TYPE, WireError
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.registry.dispatch import RegistryPlane
from berth.registry.hosts import RegistryDirectory
from berth.registry.routes import ROUTES
from berth.services import Services
from berth.storage import FilesystemDriver

log = logging.getLogger("berth")

REGISTRY_PREFIXES = ("/v2", "/oauth2/", "/acr/")

INSECURE_WARNING = (
    "UNSAFE: insecure_no_auth is on — every request to every registry is allowed without "
    "credentials. Use it only for local experiments."
)


def _not_found(request: Request, exc: Exception) -> Response:
    error = WireError(errors.NOT_FOUND, f"no endpoint at {request.url.path}")
    return Response(error.body(), status_code=404, media_type=JSON_CONTENT_TYPE)


def _method_not_allowed(request: Request, exc: Exception) -> Response:
    error = WireError(errors.METHOD_NOT_ALLOWED, f"{request.method} is not allowed on {request.url.path}")
    return Response(error.body(), status_code=405, media_type=JSON_CONTENT_TYPE)


async def _health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON_CONTENT_TYPE)


class BerthApp:
    """The whole service as one ASGI callable."""

    def __init__(
        self,
        services: Services,
        service_routes: list[BaseRoute] | None = None,
        on_startup: list[Callable[[], Any]] | None = None,
    ) -> None:
        self.services = services
        self.registry_plane = RegistryPlane(services, ROUTES)
        routes: list[BaseRoute] = [Route("/healthz", _health), *(service_routes or [])]
        self.service_plane = Starlette(
            routes=routes, exception_handlers={404: _not_found, 405: _method_not_allowed}
        )
        self._on_startup = on_startup or []

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
        """Create the schema and the default registry; idempotent."""
        services = self.services
        services.db.create_schema()
        services.db.write_sync(registry_rows.ensure, services.settings.default_registry)
        for hook in self._on_startup:
            hook()
        if services.settings.insecure_no_auth:
            log.warning(INSECURE_WARNING)

    def shutdown(self) -> None:
        self.services.db.dispose()


def build_access(settings: Settings, db: Database) -> AccessController:
    if settings.insecure_no_auth:
        return AllowAll()
    raise NotImplementedError("authentication arrives with the access issue; run with --insecure-no-auth")


def build_app(settings: Settings) -> BerthApp:
    db = Database(settings.resolved_database_url)
    storage = FilesystemDriver(settings.resolved_storage_path)
    services = Services(
        settings=settings,
        db=db,
        storage=storage,
        access=build_access(settings, db),
        registries=RegistryDirectory(db),
    )
    return BerthApp(services)
