"""The admin user's credentials: ``listCredentials`` and ``regenerateCredential``.

berth keeps only hashes, so a password's value appears once, in the answer that generated it
(the first ``listCredentials`` after the admin user is enabled, or a ``regenerateCredential``),
and is ``null`` afterwards.
"""

from __future__ import annotations

from fastapi import APIRouter

from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep
from berth.management.api.models import AdminCredentials, AdminPassword, RegenerateCredentialRequest
from berth.management.authz import WRITE
from berth.management.registries import AdminCredentials as DomainCredentials

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Admin user"])

ACTION = "Microsoft.ContainerRegistry/registries"


def credentials_view(credentials: DomainCredentials) -> AdminCredentials:
    return AdminCredentials(
        username=credentials.username,
        passwords=[
            AdminPassword(name=p.name, value=p.value.reveal() if p.value is not None else None)
            for p in credentials.passwords
        ],
    )


@router.post(
    REGISTRY + "/listCredentials",
    response_model=AdminCredentials,
    operation_id="Registries_ListCredentials",
)
async def list_credentials(scope: RegistryDep) -> AdminCredentials:
    """The admin user's name and passwords (values only where just generated)."""
    record = await scope.authorized_registry(WRITE, f"{ACTION}/listCredentials/action")
    return credentials_view(await scope.api.management.registries.admin_credentials(record))


@router.post(
    REGISTRY + "/regenerateCredential",
    response_model=AdminCredentials,
    operation_id="Registries_RegenerateCredential",
)
async def regenerate_credential(scope: RegistryDep, body: RegenerateCredentialRequest) -> AdminCredentials:
    """A new value for ``password`` or ``password2``; the old one stops working."""
    record = await scope.authorized_registry(WRITE, f"{ACTION}/regenerateCredential/action")
    admin = scope.api.management.registries
    return credentials_view(await admin.regenerate_admin_password(record, body.name))
