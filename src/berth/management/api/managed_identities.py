"""``Microsoft.ManagedIdentity/userAssignedIdentities``: user-assigned managed identities as ARM
resources, and their host credentials (a berth extension: how a host proves it may use one).

Who may: Reader reads, Contributor creates, changes and deletes — and hands out host
credentials, except for an identity that holds a role which may assign roles (Owner, User Access
Administrator), for which that same power is needed: a host credential lets its holder act as
the identity.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import AfterValidator, Field

from berth.access.roles import role_by_id
from berth.management.api.deps import (
    COMMON,
    ERRORS,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    GroupDep,
    Scope,
    SubscriptionDep,
    deleted,
)
from berth.management.api.fields import Location, Tags, _clean, iso
from berth.management.api.models import ListOf, Wire
from berth.management.authz import ASSIGN, READ, WRITE
from berth.management.identity_credentials import CredentialAdmin
from berth.management.managed_identities import ManagedIdentityAdmin
from berth.metadata.federated import FederatedCredentialRecord
from berth.metadata.managed_identities import HostCredentialRecord, ManagedIdentityRecord

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Managed identities"])

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
COLLECTION = f"/providers/{TYPE}"
IDENTITY = RESOURCE_GROUP + COLLECTION + "/{resourceName}"
TOKEN_PATH = "/msi/token"

ResourceName = Annotated[str, Path(alias="resourceName", max_length=128, description="The identity's name.")]
HostName = Annotated[str, Path(alias="hostName", max_length=128, description="The host's name.")]


class IdentityProperties(Wire):
    tenant_id: str
    principal_id: str
    client_id: str


class UserAssignedIdentity(Wire):
    id: str
    name: str
    type: str = TYPE
    location: str
    tags: dict[str, str]
    properties: IdentityProperties


class IdentityCreate(Wire):
    location: Location = "local"
    tags: Tags | None = None


class HostCredentialCreate(Wire):
    host: Annotated[
        str,
        Field(max_length=128, description="A name for the host (a VM, a container)."),
        AfterValidator(_clean),
    ]


class HostCredential(Wire):
    host: str
    hint: str
    created_date_time: str | None
    identity_endpoint: str | None = None
    identity_header: Annotated[
        str | None, Field(description="The secret, shown only when it is created.")
    ] = None


def _identity_id(scope: Scope, record: ManagedIdentityRecord) -> str:
    return f"{scope.api.tenancy.resource_group_scope(record.resource_group)}{COLLECTION}/{record.name}"


def identity_view(scope: Scope, record: ManagedIdentityRecord) -> UserAssignedIdentity:
    return UserAssignedIdentity(
        id=_identity_id(scope, record),
        name=record.name,
        location=record.location,
        tags=record.tags,
        properties=IdentityProperties(
            tenant_id=scope.api.tenancy.tenant_id, principal_id=record.identity.id, client_id=record.client_id
        ),
    )


def host_view(record: HostCredentialRecord) -> HostCredential:
    return HostCredential(host=record.host, hint=record.hint, created_date_time=iso(record.created_at))


def _admin(scope: Scope) -> ManagedIdentityAdmin:
    return ManagedIdentityAdmin(scope.api.services.db)


async def _identity(scope: Scope, name: str, permission: str, action: str) -> ManagedIdentityRecord:
    scope.require(permission, action)
    assert scope.resource_group is not None
    return await _admin(scope).get(scope.resource_group, name)


# --- identities -----------------------------------------------------------------------------


@router.get(
    SUBSCRIPTION + COLLECTION,
    response_model=ListOf[UserAssignedIdentity],
    operation_id="UserAssignedIdentities_ListBySubscription",
)
async def list_identities(scope: SubscriptionDep) -> ListOf[UserAssignedIdentity]:
    records = await _admin(scope).list_identities()
    api = scope.api
    readable = [
        r for r in records if api.caller.can(READ, api.tenancy.resource_group_scope(r.resource_group))
    ]
    return ListOf[UserAssignedIdentity](value=[identity_view(scope, r) for r in readable])


@router.get(
    RESOURCE_GROUP + COLLECTION,
    response_model=ListOf[UserAssignedIdentity],
    operation_id="UserAssignedIdentities_ListByResourceGroup",
)
async def list_identities_in_group(scope: GroupDep) -> ListOf[UserAssignedIdentity]:
    scope.require(READ, f"{TYPE}/read")
    records = await _admin(scope).list_identities(scope.resource_group)
    return ListOf[UserAssignedIdentity](value=[identity_view(scope, r) for r in records])


@router.put(
    IDENTITY, response_model=UserAssignedIdentity, operation_id="UserAssignedIdentities_CreateOrUpdate"
)
async def put_identity(
    scope: GroupDep, name: ResourceName, body: IdentityCreate, response: Response
) -> UserAssignedIdentity:
    """Create an identity (201) or replace its tags (200)."""
    scope.require(WRITE, f"{TYPE}/write")
    assert scope.resource_group is not None
    record, created = await _admin(scope).put(
        scope.resource_group, name, body.location, dict(body.tags or {})
    )
    response.status_code = 201 if created else 200
    return identity_view(scope, record)


@router.get(IDENTITY, response_model=UserAssignedIdentity, operation_id="UserAssignedIdentities_Get")
async def get_identity(scope: GroupDep, name: ResourceName) -> UserAssignedIdentity:
    return identity_view(scope, await _identity(scope, name, READ, f"{TYPE}/read"))


@router.delete(
    IDENTITY, status_code=200, response_class=Response, operation_id="UserAssignedIdentities_Delete"
)
async def delete_identity(scope: GroupDep, name: ResourceName) -> Response:
    """Delete an identity with its role assignments and host credentials."""

    async def work() -> None:
        record = await _identity(scope, name, WRITE, f"{TYPE}/delete")
        await _admin(scope).delete(record)

    return await deleted(work())


# --- host credentials -----------------------------------------------------------------------


async def _may_hand_out(scope: Scope, record: ManagedIdentityRecord) -> None:
    held = await scope.api.management.principals.assignments_of(record.identity)
    if any(ASSIGN in (role.management if (role := role_by_id(a.role_definition_id)) else ()) for a in held):
        scope.require(ASSIGN, f"{TYPE}/assign/action")


@router.get(
    IDENTITY + "/hostCredentials",
    response_model=ListOf[HostCredential],
    operation_id="UserAssignedIdentities_ListHostCredentials",
)
async def list_hosts(scope: GroupDep, name: ResourceName) -> ListOf[HostCredential]:
    record = await _identity(scope, name, READ, f"{TYPE}/read")
    return ListOf[HostCredential](value=[host_view(h) for h in await _admin(scope).hosts(record)])


@router.post(
    IDENTITY + "/hostCredentials",
    response_model=HostCredential,
    status_code=201,
    operation_id="UserAssignedIdentities_CreateHostCredential",
)
async def create_host(scope: GroupDep, name: ResourceName, body: HostCredentialCreate) -> HostCredential:
    """A secret that lets ``host`` use the identity (its previous one, if any, stops working):
    the host sets ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` to the values answered here, once."""
    record = await _identity(scope, name, WRITE, f"{TYPE}/assign/action")
    await _may_hand_out(scope, record)
    stored, secret = await _admin(scope).add_host(record, body.host)
    view = host_view(stored)
    view.identity_endpoint = scope.api.services.settings.service_url + TOKEN_PATH
    view.identity_header = secret.reveal()
    return view


@router.delete(
    IDENTITY + "/hostCredentials/{hostName}",
    status_code=204,
    response_class=Response,
    operation_id="UserAssignedIdentities_DeleteHostCredential",
)
async def delete_host(scope: GroupDep, name: ResourceName, host: HostName) -> Response:
    record = await _identity(scope, name, WRITE, f"{TYPE}/assign/action")
    await _admin(scope).remove_host(record, host)
    return Response(status_code=204)


# --- federated identity credentials of an identity (az identity federated-credential) --------

FEDERATED = IDENTITY + "/federatedIdentityCredentials"
CredentialName = Annotated[
    str, Path(alias="federatedIdentityCredentialResourceName", max_length=120, description="The name.")
]


class FederatedProperties(Wire):
    issuer: Annotated[str, Field(max_length=600), AfterValidator(_clean)]
    subject: Annotated[str, Field(max_length=600), AfterValidator(_clean)]
    audiences: Annotated[
        list[Annotated[str, Field(max_length=600), AfterValidator(_clean)]] | None, Field(max_length=5)
    ] = None


class FederatedCredentialPut(Wire):
    properties: FederatedProperties


class FederatedCredentialResource(Wire):
    id: str
    name: str
    type: str = f"{TYPE}/federatedIdentityCredentials"
    properties: FederatedProperties


def federated_view(
    scope: Scope, record: ManagedIdentityRecord, credential: FederatedCredentialRecord
) -> FederatedCredentialResource:
    return FederatedCredentialResource(
        id=f"{_identity_id(scope, record)}/federatedIdentityCredentials/{credential.name}",
        name=credential.name,
        properties=FederatedProperties(
            issuer=credential.issuer, subject=credential.subject, audiences=list(credential.audiences)
        ),
    )


@router.get(
    FEDERATED,
    response_model=ListOf[FederatedCredentialResource],
    operation_id="FederatedIdentityCredentials_ListForIdentity",
)
async def list_federated(scope: GroupDep, name: ResourceName) -> ListOf[FederatedCredentialResource]:
    record = await _identity(scope, name, READ, f"{TYPE}/read")
    found = await CredentialAdmin(scope.api.services.db).federated(record.identity)
    return ListOf[FederatedCredentialResource](value=[federated_view(scope, record, c) for c in found])


@router.put(
    FEDERATED + "/{federatedIdentityCredentialResourceName}",
    response_model=FederatedCredentialResource,
    status_code=201,
    operation_id="FederatedIdentityCredentials_CreateForIdentity",
)
async def put_federated(
    scope: GroupDep, name: ResourceName, credential: CredentialName, body: FederatedCredentialPut
) -> FederatedCredentialResource:
    """Trust tokens of ``issuer`` for ``subject`` as this identity (az identity federated-credential)."""
    record = await _identity(scope, name, WRITE, f"{TYPE}/federatedIdentityCredentials/write")
    await _may_hand_out(scope, record)
    admin = CredentialAdmin(scope.api.services.db)
    props = body.properties
    created = await admin.add_federated(
        record.identity, credential, props.issuer, props.subject, props.audiences
    )
    return federated_view(scope, record, created)


@router.delete(
    FEDERATED + "/{federatedIdentityCredentialResourceName}",
    status_code=200,
    response_class=Response,
    operation_id="FederatedIdentityCredentials_DeleteForIdentity",
)
async def delete_federated(scope: GroupDep, name: ResourceName, credential: CredentialName) -> Response:
    async def work() -> None:
        record = await _identity(scope, name, WRITE, f"{TYPE}/federatedIdentityCredentials/delete")
        await CredentialAdmin(scope.api.services.db).remove_federated(record.identity, credential)

    return await deleted(work())
