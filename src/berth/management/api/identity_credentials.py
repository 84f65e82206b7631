"""Secretless credentials of service principals, Graph-shaped.

- ``/v1.0/applications/{id}/federatedIdentityCredentials``: Graph's own paths (``az ad app
  federated-credential``); ``{id}`` is the application's object id or its application id (in
  berth, an application and its service principal are one identity).
- ``/v1.0/servicePrincipals/{id}/keyCredentials``, ``addKeyCredential`` and
  ``removeKeyCredential``: certificates (public part only), which ``berth ad sp create-for-rbac
  --create-cert`` and ``credential reset --create-cert`` register.

Who may: as for passwords (see :mod:`berth.management.api.graph`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import AfterValidator, Field

from berth.access.principals import GUID
from berth.management.api.deps import COMMON, ERRORS, Api, ApiDep
from berth.management.api.fields import _clean, iso
from berth.management.api.graph import (
    SERVICE_PRINCIPALS,
    changeable_service_principal,
    require_read,
    service_principal,
)
from berth.management.api.models import ListOf, Wire
from berth.management.identity_credentials import CredentialAdmin
from berth.metadata.federated import FederatedCredentialRecord
from berth.metadata.key_credentials import KeyCredentialRecord

router = APIRouter(prefix="/v1.0", dependencies=COMMON, responses=ERRORS, tags=["Directory (Graph)"])

APPLICATIONS = "microsoft.directory/applications"
FEDERATED = "/applications/{applicationId}/federatedIdentityCredentials"

AppKey = Annotated[
    str, Path(alias="applicationId", pattern=GUID.pattern, description="Object id or application id.")
]
SpKey = Annotated[
    str, Path(alias="servicePrincipalId", pattern=GUID.pattern, description="Object id or application id.")
]
CredentialKey = Annotated[
    str, Path(alias="federatedIdentityCredentialId", max_length=120, description="Id or name.")
]


class FederatedIdentityCredential(Wire):
    id: str
    name: str
    issuer: str
    subject: str
    audiences: list[str]
    description: str | None = None


class FederatedIdentityCredentialCreate(Wire):
    name: Annotated[str, Field(max_length=120), AfterValidator(_clean)]
    issuer: Annotated[str, Field(max_length=600), AfterValidator(_clean)]
    subject: Annotated[str, Field(max_length=600), AfterValidator(_clean)]
    audiences: Annotated[
        list[Annotated[str, Field(max_length=600), AfterValidator(_clean)]] | None, Field(max_length=5)
    ] = None
    description: Annotated[str, Field(max_length=600), AfterValidator(_clean)] | None = None


class KeyCredential(Wire):
    key_id: str
    display_name: str
    type: str = "AsymmetricX509Cert"
    usage: str = "Verify"
    custom_key_identifier: str  # the SHA-1 thumbprint, hex
    start_date_time: str | None
    end_date_time: str | None


class KeyCredentialInput(Wire):
    key: Annotated[
        str,
        Field(max_length=16384, description="The certificate: PEM or base64 DER."),
        AfterValidator(_clean),
    ]
    display_name: Annotated[str, Field(max_length=256), AfterValidator(_clean)] | None = None


class AddKeyCredentialRequest(Wire):
    key_credential: KeyCredentialInput
    append: bool = Field(False, description="Keep the other certificates (az's --append).")


class RemoveKeyCredentialRequest(Wire):
    key_id: Annotated[str, Field(pattern=GUID.pattern)]


def federated_view(record: FederatedCredentialRecord) -> FederatedIdentityCredential:
    return FederatedIdentityCredential(
        id=record.id,
        name=record.name,
        issuer=record.issuer,
        subject=record.subject,
        audiences=list(record.audiences),
        description=record.description or None,
    )


def key_view(record: KeyCredentialRecord) -> KeyCredential:
    return KeyCredential(
        key_id=record.id,
        display_name=record.display_name,
        custom_key_identifier=record.thumbprint_sha1,
        start_date_time=iso(record.created_at),
        end_date_time=iso(record.expires_at),
    )


def _admin(api: Api) -> CredentialAdmin:
    return CredentialAdmin(api.services.db)


# --- federated identity credentials ---------------------------------------------------------


@router.get(
    FEDERATED,
    response_model=ListOf[FederatedIdentityCredential],
    operation_id="FederatedIdentityCredentials_List",
)
async def list_federated(api: ApiDep, key: AppKey) -> ListOf[FederatedIdentityCredential]:
    require_read(api, f"{APPLICATIONS}/standard/read", key)
    record = await service_principal(api, key)
    return ListOf[FederatedIdentityCredential](
        value=[federated_view(c) for c in await _admin(api).federated(record)]
    )


@router.post(
    FEDERATED,
    response_model=FederatedIdentityCredential,
    status_code=201,
    operation_id="FederatedIdentityCredentials_Create",
)
async def create_federated(
    api: ApiDep, key: AppKey, body: FederatedIdentityCredentialCreate
) -> FederatedIdentityCredential:
    """Trust tokens of ``issuer`` for ``subject`` (and one audience) in place of a secret."""
    record = await changeable_service_principal(api, key, f"{APPLICATIONS}/credentials/update")
    created = await _admin(api).add_federated(
        record, body.name, body.issuer, body.subject, body.audiences, body.description or ""
    )
    return federated_view(created)


@router.get(
    FEDERATED + "/{federatedIdentityCredentialId}",
    response_model=FederatedIdentityCredential,
    operation_id="FederatedIdentityCredentials_Get",
)
async def get_federated(api: ApiDep, key: AppKey, credential: CredentialKey) -> FederatedIdentityCredential:
    require_read(api, f"{APPLICATIONS}/standard/read", key)
    record = await service_principal(api, key)
    return federated_view(await _admin(api).get_federated(record, credential))


@router.delete(
    FEDERATED + "/{federatedIdentityCredentialId}",
    status_code=204,
    response_class=Response,
    operation_id="FederatedIdentityCredentials_Delete",
)
async def delete_federated(api: ApiDep, key: AppKey, credential: CredentialKey) -> Response:
    record = await changeable_service_principal(api, key, f"{APPLICATIONS}/credentials/update")
    await _admin(api).remove_federated(record, credential)
    return Response(status_code=204)


# --- certificates ---------------------------------------------------------------------------


@router.get(
    "/servicePrincipals/{servicePrincipalId}/keyCredentials",
    response_model=ListOf[KeyCredential],
    operation_id="ServicePrincipals_ListKeyCredentials",
)
async def list_certificates(api: ApiDep, key: SpKey) -> ListOf[KeyCredential]:
    require_read(api, f"{SERVICE_PRINCIPALS}/standard/read", key)
    record = await service_principal(api, key)
    return ListOf[KeyCredential](value=[key_view(k) for k in await _admin(api).certificates(record)])


@router.post(
    "/servicePrincipals/{servicePrincipalId}/addKeyCredential",
    response_model=KeyCredential,
    operation_id="ServicePrincipals_AddKeyCredential",
)
async def add_certificate(api: ApiDep, key: SpKey, body: AddKeyCredentialRequest) -> KeyCredential:
    """Register a certificate (public part only: a private key is refused, never stored)."""
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/credentials/update")
    credential = body.key_credential
    added = await _admin(api).add_certificate(
        record, credential.key, credential.display_name or "", body.append
    )
    return key_view(added)


@router.post(
    "/servicePrincipals/{servicePrincipalId}/removeKeyCredential",
    status_code=204,
    response_class=Response,
    operation_id="ServicePrincipals_RemoveKeyCredential",
)
async def remove_certificate(api: ApiDep, key: SpKey, body: RemoveKeyCredentialRequest) -> Response:
    record = await changeable_service_principal(api, key, f"{SERVICE_PRINCIPALS}/credentials/update")
    await _admin(api).remove_certificate(record, body.key_id)
    return Response(status_code=204)
