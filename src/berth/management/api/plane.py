"""The service plane as one FastAPI application: the management API, its OpenAPI document at
``/openapi.json``, and the routes others bring (the directory, ``/healthz``), left out of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute, Route

from berth.management.api import (
    collection,
    credentials,
    discovery,
    errors,
    graph,
    graph_apps,
    identity_credentials,
    imports,
    logs,
    managed_identities,
    registries,
    role_assignments,
    scope_maps,
    tokens,
    usage,
)
from berth.services import Services

TITLE = "berth management API"
VERSION = "2025-11-01"
DESCRIPTION = (
    "Azure Resource Manager-shaped management of registries, admin credentials, tokens, scope maps "
    "and role assignments, and a Microsoft Graph-shaped subset for users and service principals. "
    "Authenticate with a directory access token for https://management.azure.com; any api-version "
    "is accepted. See docs/management-api.md."
)
ROUTERS = (
    discovery.metadata_router,
    discovery.router,
    registries.router,
    credentials.router,
    collection.router,
    usage.router,
    scope_maps.router,
    tokens.router,
    role_assignments.router,
    graph.router,
    graph_apps.router,
    imports.router,
    identity_credentials.router,
    managed_identities.router,
    logs.router,
)


def build_service_plane(
    services: Services,
    routes: Sequence[BaseRoute],
    *,
    not_found: errors.Handler,
    method_not_allowed: errors.Handler,
) -> FastAPI:
    """The management API plus ``routes``; unknown paths outside the API go to the handlers given."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    for route in routes:
        if isinstance(route, Route):
            route.include_in_schema = False
        app.router.routes.append(route)
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app, not_found, method_not_allowed)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with validation failures described as the 400s they are."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
