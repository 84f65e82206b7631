"""Users and service principals, shaped like Microsoft Graph ``/v1.0`` (a small subset).

Who may do what (scopes are the subscription's):
- read users and service principals: Reader, or anyone who may assign roles somewhere (they
  need to look up assignees), or the identity itself;
- create, change or delete users: Owner;
- create, change or delete service principals and their passwords: Contributor — and Owner
  when the service principal itself holds Owner somewhere, so that nobody takes over an
  identity more powerful than their own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from berth.access.principals import GUID
from berth.access.roles import role_by_id
from berth.access.secrets import Secret
from berth.management.api.deps import COMMON, ERRORS, Api, ApiDep, or_none
from berth.management.api.fields import iso
from berth.management.api.filters import parse_filter
from berth.management.api.models import (
    AccountUpdate,
    AddedPassword,
    AddPasswordRequest,
    ListOf,
    PasswordCredential,
    RemovePasswordRequest,
    ServicePrincipal,
    ServicePrincipalCreate,
    User,
    UserCreate,
)
from berth.management.authz import ASSIGN, READ, WRITE
from berth.management.errors import invalid, not_found
from berth.management.principals import UPN
from berth.metadata.identities import SERVICE_PRINCIPAL, USER, IdentityRecord

router = APIRouter(prefix="/v1.0", dependencies=COMMON, responses=ERRORS, tags=["Directory (Graph)"])

USERS = "microsoft.directory/users"
SERVICE_PRINCIPALS = "microsoft.directory/servicePrincipals"

UserKey = Annotated[
    str, Path(alias="userId", max_length=256, description="Object id or user principal name.")
]
SpKey = Annotated[
    str, Path(alias="servicePrincipalId", pattern=GUID.pattern, description="Object id or application id.")
]
UserFilter = Annotated[
    str | None,
    Query(
        alias="$filter",
        max_length=1024,
        description="userPrincipalName eq '<upn>', startswith(displayName,'x')",
    ),
]
SpFilter = Annotated[
    str | None,
    Query(
        alias="$filter",
        max_length=1024,
        description="appId eq '<id>', displayName eq '<name>', startswith(...), "
        "servicePrincipalNames/any(c:c eq '<appId>')",
    ),
]


# --- shaping --------------------------------------------------------------------------------


def user_view(record: IdentityRecord) -> User:
    return User(
        id=record.id,
        user_principal_name=record.upn,
        display_name=record.display_name,
        account_enabled=record.enabled,
    )


async def service_principal_view(api: Api, record: IdentityRecord) -> ServicePrincipal:
    secrets = await api.management.principals.secrets(record)
    return ServicePrincipal(
        id=record.id,
        app_id=record.app_id,
        display_name=record.display_name,
        account_enabled=record.enabled,
        service_principal_type="Application",
        service_principal_names=[record.app_id] if record.app_id else [],
        password_credentials=[
            PasswordCredential(
                key_id=s.id,
                hint=s.hint,
                display_name=s.display_name,
                start_date_time=iso(s.created_at),
                end_date_time=iso(s.expires_at),
            )
            for s in secrets
        ],
    )


# --- who may --------------------------------------------------------------------------------


def require_read(api: Api, action: str, key: str | None = None) -> None:
    caller = api.caller
    me = caller.identity
    if key is not None and key.lower() in {me.id, (me.upn or "").lower(), (me.app_id or "").lower()}:
        return
    subscription = api.tenancy.subscription_scope
    if caller.can(READ, subscription):
        return
    if any(ASSIGN in caller.permissions_at(a.scope) for a in caller.assignments):
        return
    api.require(READ, subscription, action)


async def changeable_service_principal(api: Api, key: str, action: str) -> IdentityRecord:
    """The service principal ``key``, if the caller may change it (see the module's rules)."""
    subscription = api.tenancy.subscription_scope
    api.require(WRITE, subscription, action)
    record = await service_principal(api, key)
    held = await api.management.principals.assignments_of(record)
    if any(ASSIGN in (role.management if (role := role_by_id(a.role_definition_id)) else ()) for a in held):
        api.require(ASSIGN, subscription, action)
    return record


# --- lookups --------------------------------------------------------------------------------


async def _user(api: Api, key: str) -> IdentityRecord:
    record = None
    if GUID.match(key) or UPN.match(key):
        record = await or_none(api.management.principals.find(key))
    if record is None or record.kind != USER:
        raise not_found("user", key)
    return record


async def service_principal(api: Api, key: str) -> IdentityRecord:
    record = await or_none(api.management.principals.find(key))
    if record is None or record.kind != SERVICE_PRINCIPAL:
        raise not_found("service principal", key)
    return record


# --- users ----------------------------------------------------------------------------------


@router.get("/users", response_model=ListOf[User], operation_id="Users_List")
async def list_users(api: ApiDep, filter_: UserFilter = None) -> ListOf[User]:
    require_read(api, f"{USERS}/standard/read")
    wanted = parse_filter(filter_, ("userPrincipalName", "displayName", "id"))
    records = await api.management.principals.list_principals(USER)
    return ListOf[User](
        value=[
            user_view(r)
            for r in records
            if wanted.matches({"userprincipalname": r.upn, "displayname": r.display_name, "id": r.id})
        ]
    )


@router.post("/users", response_model=User, status_code=201, operation_id="Users_Create")
async def create_user(api: ApiDep, body: UserCreate) -> User:
    api.require(ASSIGN, api.tenancy.subscription_scope, f"{USERS}/create")
    principals = api.management.principals
    password = Secret(body.password_profile.password.get_secret_value())
    record = await principals.create_user(body.user_principal_name, body.display_name, password)
    if not body.account_enabled:
        record = await principals.set_enabled(record, False)
    return user_view(record)


@router.get("/users/{userId}", response_model=User, operation_id="Users_Get")
async def get_user(api: ApiDep, key: UserKey) -> User:
    require_read(api, f"{USERS}/standard/read", key)
    return user_view(await _user(api, key))


@router.patch("/users/{userId}", response_model=User, operation_id="Users_Update")
async def update_user(api: ApiDep, key: UserKey, body: AccountUpdate) -> User:
    """Enable or disable a user; disabling ends the tokens they hold."""
    api.require(ASSIGN, api.tenancy.subscription_scope, f"{USERS}/update")
    record = await _user(api, key)
    if body.account_enabled is not None:
        record = await api.management.principals.set_enabled(record, body.account_enabled)
    return user_view(record)


@router.delete("/users/{userId}", status_code=204, response_class=Response, operation_id="Users_Delete")
async def delete_user(api: ApiDep, key: UserKey) -> Response:
    """Delete a user with their role assignments."""
    api.require(ASSIGN, api.tenancy.subscription_scope, f"{USERS}/delete")
    await api.management.principals.delete(await _user(api, key))
    return Response(status_code=204)


# --- service principals ---------------------------------------------------------------------


@router.get(
    "/servicePrincipals", response_model=ListOf[ServicePrincipal], operation_id="ServicePrincipals_List"
)
async def list_service_principals(api: ApiDep, filter_: SpFilter = None) -> ListOf[ServicePrincipal]:
    require_read(api, f"{SERVICE_PRINCIPALS}/standard/read")
    wanted = parse_filter(filter_, ("appId", "displayName", "id", "servicePrincipalNames"))
    records = await api.management.principals.list_principals(SERVICE_PRINCIPAL)
    chosen = [
        r
        for r in records
        if wanted.matches(
            {"appid": r.app_id, "displayname": r.display_name, "id": r.id, "serviceprincipalnames": r.app_id}
        )
    ]
    return ListOf[ServicePrincipal](value=[await service_principal_view(api, r) for r in chosen])


@router.post(
    "/servicePrincipals",
    response_model=ServicePrincipal,
    status_code=201,
    operation_id="ServicePrincipals_Create",
)
async def create_service_principal(api: ApiDep, body: ServicePrincipalCreate) -> ServicePrincipal:
    """A service principal without credentials: add one with ``addPassword``. With ``appId``:
    the application's service principal (berth makes the two together)."""
    api.require(WRITE, api.tenancy.subscription_scope, f"{SERVICE_PRINCIPALS}/create")
    if body.app_id is not None:
        return await service_principal_view(api, await service_principal(api, body.app_id))
    if body.display_name is None:
        raise invalid(
            "A service principal needs a displayName (or the appId of an application).", "displayName"
        )
    record = await api.management.principals.create_service_principal(body.display_name)
    return await service_principal_view(api, record)


@router.get(
    "/servicePrincipals/{servicePrincipalId}",
    response_model=ServicePrincipal,
    operation_id="ServicePrincipals_Get",
)
async def get_service_principal(api: ApiDep, key: SpKey) -> ServicePrincipal:
    require_read(api, f"{SERVICE_PRINCIPALS}/standard/read", key)
    return await service_principal_view(api, await service_principal(api, key))


@router.patch(
    "/servicePrincipals/{servicePrincipalId}",
    response_model=ServicePrincipal,
    operation_id="ServicePrincipals_Update",
)
async def update_service_principal(api: ApiDep, key: SpKey, body: AccountUpdate) -> ServicePrincipal:
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/update")
    if body.account_enabled is not None:
        record = await api.management.principals.set_enabled(record, body.account_enabled)
    return await service_principal_view(api, record)


@router.delete(
    "/servicePrincipals/{servicePrincipalId}",
    status_code=204,
    response_class=Response,
    operation_id="ServicePrincipals_Delete",
)
async def delete_service_principal(api: ApiDep, key: SpKey) -> Response:
    """Delete a service principal with its secrets and role assignments."""
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/delete")
    await api.management.principals.delete(record)
    return Response(status_code=204)


@router.post(
    "/servicePrincipals/{servicePrincipalId}/addPassword",
    response_model=AddedPassword,
    operation_id="ServicePrincipals_AddPassword",
)
async def add_password(api: ApiDep, key: SpKey, body: AddPasswordRequest | None = None) -> AddedPassword:
    """A new client secret (``secretText``: shown only here); the others stay valid."""
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/credentials/update")
    credential = body.password_credential if body is not None else None
    end = credential.end_date_time if credential is not None else None
    new = await api.management.principals.reset_secret(
        record,
        append=True,
        end_date=end.timestamp() if end is not None else None,
        display_name=(credential.display_name if credential is not None else None) or "",
    )
    return AddedPassword(
        key_id=new.record.id,
        secret_text=new.secret.reveal(),
        hint=new.record.hint,
        display_name=new.record.display_name,
        start_date_time=iso(new.record.created_at),
        end_date_time=iso(new.record.expires_at),
    )


@router.post(
    "/servicePrincipals/{servicePrincipalId}/removePassword",
    status_code=204,
    response_class=Response,
    operation_id="ServicePrincipals_RemovePassword",
)
async def remove_password(api: ApiDep, key: SpKey, body: RemovePasswordRequest) -> Response:
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/credentials/update")
    await api.management.principals.remove_secret(record, body.key_id)
    return Response(status_code=204)
