"""Scope maps of a registry: the three system maps plus the user's, each a list of actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep, Scope, deleted, or_none
from berth.management.api.fields import iso
from berth.management.api.models import (
    ListOf,
    ScopeMap,
    ScopeMapCreate,
    ScopeMapProperties,
    ScopeMapUpdate,
)
from berth.management.authz import READ, WRITE
from berth.management.scoped_access import ScopeMapView
from berth.metadata.registries import RegistryRecord

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Scope maps"])

TYPE = "Microsoft.ContainerRegistry/registries/scopeMaps"
SCOPE_MAPS = REGISTRY + "/scopeMaps"
SCOPE_MAP = SCOPE_MAPS + "/{scopeMapName}"
CREATED: dict[int | str, dict[str, Any]] = {201: {"model": ScopeMap, "description": "Created"}}

ScopeMapName = Annotated[
    str,
    Path(
        alias="scopeMapName",
        pattern=r"^[A-Za-z0-9_-]{5,50}$",
        description="5 to 50 letters, digits and hyphens (system maps start with '_').",
    ),
]


def scope_map_id(registry_id: str, name: str) -> str:
    return f"{registry_id}/scopeMaps/{name}"


def scope_map_view(scope: Scope, registry: RegistryRecord, view: ScopeMapView) -> ScopeMap:
    return ScopeMap(
        id=scope_map_id(scope.registry_id(registry), view.name),
        name=view.name,
        type=TYPE,
        properties=ScopeMapProperties(
            description=view.description,
            type="SystemDefined" if view.system else "UserDefined",
            creation_date=iso(view.created_at if view.created_at is not None else registry.created_at),
            provisioning_state="Succeeded",
            actions=list(view.actions),
        ),
    )


@router.get(SCOPE_MAPS, response_model=ListOf[ScopeMap], operation_id="ScopeMaps_List")
async def list_scope_maps(scope: RegistryDep) -> ListOf[ScopeMap]:
    """The system maps first, then the registry's own."""
    registry = await scope.authorized_registry(READ, f"{TYPE}/read")
    views = await scope.api.management.scoped.list_scope_maps(registry)
    return ListOf[ScopeMap](value=[scope_map_view(scope, registry, view) for view in views])


@router.get(SCOPE_MAP, response_model=ScopeMap, operation_id="ScopeMaps_Get")
async def get_scope_map(scope: RegistryDep, name: ScopeMapName) -> ScopeMap:
    registry = await scope.authorized_registry(READ, f"{TYPE}/read")
    return scope_map_view(scope, registry, await scope.api.management.scoped.get_scope_map(registry, name))


@router.put(SCOPE_MAP, response_model=ScopeMap, responses=CREATED, operation_id="ScopeMaps_Create")
async def put_scope_map(
    scope: RegistryDep, name: ScopeMapName, body: ScopeMapCreate, response: Response
) -> ScopeMap:
    """Create (201) or replace (200) a scope map; system maps cannot change (409)."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/write")
    scoped = scope.api.management.scoped
    existing = await or_none(scoped.get_scope_map(registry, name))
    properties = body.properties
    view = await scoped.put_scope_map(registry, name, properties.actions, properties.description)
    if existing is None:
        response.status_code = 201
    return scope_map_view(scope, registry, view)


@router.patch(SCOPE_MAP, response_model=ScopeMap, operation_id="ScopeMaps_Update")
async def update_scope_map(scope: RegistryDep, name: ScopeMapName, body: ScopeMapUpdate) -> ScopeMap:
    """Change the description or the actions (the whole list) of a scope map."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/write")
    scoped = scope.api.management.scoped
    current = await scoped.get_scope_map(registry, name)
    properties = body.properties
    actions = properties.actions if properties and properties.actions is not None else list(current.actions)
    description = (
        properties.description if properties and properties.description is not None else current.description
    )
    view = await scoped.put_scope_map(registry, current.name, actions, description)
    return scope_map_view(scope, registry, view)


@router.delete(
    SCOPE_MAP,
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Deleted"}, 204: {"description": "There was no such scope map"}},
    operation_id="ScopeMaps_Delete",
)
async def delete_scope_map(scope: RegistryDep, name: ScopeMapName) -> Response:
    """Delete a scope map no token uses (409 ``ScopeMapInUse`` otherwise; 204 if absent)."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/delete")
    return await deleted(scope.api.management.scoped.delete_scope_map(registry, name))
