"""Graph's applications and ``directoryObjects/getByIds``, as ``az ad sp`` and ``az role`` use them.

berth has no separate application objects: every service principal is its own application.
An application's ``id`` is its ``appId``, so ``/v1.0/applications/{id}`` and
``/v1.0/servicePrincipals/{appId}`` name the same identity, and ``POST /v1.0/servicePrincipals
{"appId"}`` after ``POST /v1.0/applications`` answers the service principal made with it.
Deleting either deletes the identity. Authorization is the service principals' (see graph.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from berth.access.principals import GUID
from berth.management.api import graph
from berth.management.api.deps import COMMON, ERRORS, Api, ApiDep, or_none
from berth.management.api.fields import Name
from berth.management.api.filters import parse_filter
from berth.management.api.models import (
    AddedPassword,
    AddPasswordRequest,
    ListOf,
    PasswordCredential,
    RemovePasswordRequest,
    User,
    Wire,
)
from berth.management.authz import WRITE
from berth.management.errors import invalid
from berth.metadata.identities import SERVICE_PRINCIPAL, USER, IdentityRecord

router = APIRouter(prefix="/v1.0", dependencies=COMMON, responses=ERRORS, tags=["Directory (Graph)"])

APPLICATIONS = "microsoft.directory/applications"

AppKey = Annotated[str, Path(alias="applicationId", pattern=GUID.pattern, description="Object id or appId.")]
AppFilter = Annotated[
    str | None,
    Query(
        alias="$filter",
        max_length=1024,
        description="appId eq '<id>', displayName eq '<name>', startswith(displayName,'<prefix>')",
    ),
]


class Application(Wire):
    id: str
    app_id: str
    display_name: str
    sign_in_audience: str
    password_credentials: list[PasswordCredential]
    key_credentials: list[dict[str, Any]]


class ApplicationCreate(Wire):
    display_name: Name


class GetByIdsRequest(Wire):
    ids: Annotated[list[str], Field(max_length=1000)]
    types: list[str] | None = None


class DirectoryObjects(Wire):
    value: list[dict[str, Any]]


async def application_view(api: Api, record: IdentityRecord) -> Application:
    sp = await graph.service_principal_view(api, record)
    assert record.app_id is not None
    return Application(
        id=record.app_id,
        app_id=record.app_id,
        display_name=record.display_name,
        sign_in_audience="AzureADMyOrg",
        password_credentials=sp.password_credentials,
        key_credentials=[],
    )


@router.get("/applications", response_model=ListOf[Application], operation_id="Applications_List")
async def list_applications(api: ApiDep, filter_: AppFilter = None) -> ListOf[Application]:
    graph.require_read(api, f"{APPLICATIONS}/standard/read")
    wanted = parse_filter(filter_, ("appId", "displayName", "id"))
    records = await api.management.principals.list_principals(SERVICE_PRINCIPAL)
    chosen = [
        r
        for r in records
        if wanted.matches({"appid": r.app_id, "displayname": r.display_name, "id": r.app_id})
    ]
    return ListOf[Application](value=[await application_view(api, r) for r in chosen])


@router.post("/applications", response_model=Application, status_code=201, operation_id="Applications_Create")
async def create_application(api: ApiDep, body: ApplicationCreate) -> Application:
    """An application with its service principal, without credentials (use ``addPassword``)."""
    api.require(WRITE, api.tenancy.subscription_scope, f"{APPLICATIONS}/create")
    record = await api.management.principals.create_service_principal(body.display_name)
    return await application_view(api, record)


@router.get("/applications/{applicationId}", response_model=Application, operation_id="Applications_Get")
async def get_application(api: ApiDep, key: AppKey) -> Application:
    graph.require_read(api, f"{APPLICATIONS}/standard/read", key)
    return await application_view(api, await graph.service_principal(api, key))


@router.delete(
    "/applications/{applicationId}",
    status_code=204,
    response_class=Response,
    operation_id="Applications_Delete",
)
async def delete_application(api: ApiDep, key: AppKey) -> Response:
    """Delete the application with its service principal, secrets and role assignments."""
    record = await graph.changeable_service_principal(api, key, f"{APPLICATIONS}/delete")
    await api.management.principals.delete(record)
    return Response(status_code=204)


@router.post(
    "/applications/{applicationId}/addPassword",
    response_model=AddedPassword,
    operation_id="Applications_AddPassword",
)
async def add_application_password(
    api: ApiDep, key: AppKey, body: AddPasswordRequest | None = None
) -> AddedPassword:
    """A new client secret (``secretText``: shown only here); the others stay valid."""
    return await graph.add_password(api, key, body)


@router.post(
    "/applications/{applicationId}/removePassword",
    status_code=204,
    response_class=Response,
    operation_id="Applications_RemovePassword",
)
async def remove_application_password(api: ApiDep, key: AppKey, body: RemovePasswordRequest) -> Response:
    return await graph.remove_password(api, key, body)


@router.get("/me", response_model=User, operation_id="Me_Get")
async def me(api: ApiDep) -> User:
    """The signed-in user (``az ad signed-in-user show``); applications have no ``/me``."""
    if api.caller.identity.kind != USER:
        raise invalid("/me request is only valid with delegated authentication flow.")
    return graph.user_view(api.caller.identity)


@router.post(
    "/directoryObjects/getByIds", response_model=DirectoryObjects, operation_id="DirectoryObjects_GetByIds"
)
async def get_by_ids(api: ApiDep, body: GetByIdsRequest) -> DirectoryObjects:
    """The users and service principals with these object ids (unknown ids are left out)."""
    graph.require_read(api, "microsoft.directory/directoryObjects/standard/read")
    wanted = {t.lower().removeprefix("#microsoft.graph.") for t in body.types or []}
    found: list[dict[str, Any]] = []
    for object_id in dict.fromkeys(body.ids):
        record = await or_none(api.management.principals.find(object_id)) if GUID.match(object_id) else None
        if record is None or record.id != object_id.lower():
            continue
        if record.kind == USER and (not wanted or "user" in wanted):
            view = graph.user_view(record).model_dump(by_alias=True)
            found.append({"@odata.type": "#microsoft.graph.user", **view})
        elif record.kind == SERVICE_PRINCIPAL and (not wanted or "serviceprincipal" in wanted):
            sp = (await graph.service_principal_view(api, record)).model_dump(by_alias=True)
            found.append({"@odata.type": "#microsoft.graph.servicePrincipal", **sp})
    return DirectoryObjects(value=found)
