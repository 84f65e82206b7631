"""What every handler needs: the caller, the domain layer, and the ARM scope the path names.

``ApiDep`` resolves the caller from ``Authorization: Bearer <directory token>`` (401 otherwise);
``SubscriptionDep``, ``GroupDep`` and ``RegistryDep`` add the scope from the path, checking the
subscription id (404 ``SubscriptionNotFound``) and the names' grammar (400 naming the parameter).
Handlers then call :meth:`Api.require` with the permission and ARM action they need (or, on
a registry and what it holds, :meth:`Scope.authorized_registry`, which loads the registry after).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from berth.access.roles import role_by_id
from berth.events.requestlog import note_caller
from berth.management.api.models import ErrorResponse
from berth.management.authz import Caller
from berth.management.errors import ManagementError
from berth.management.service import Management
from berth.metadata.registries import RegistryRecord
from berth.names import REGISTRY_NAME
from berth.services import Services
from berth.tenancy import PROVIDER, Tenancy, scope_covers

T = TypeVar("T")

SUBSCRIPTION = "/subscriptions/{subscriptionId}"
RESOURCE_GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}"
REGISTRY = RESOURCE_GROUP + f"/providers/{PROVIDER}/registries/{{registryName}}"

RESOURCE_GROUP_PATTERN = r"^[-\w._()]{0,89}[-\w()]$"

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="directory",
    description="A directory access token for https://management.azure.com "
    "(POST /<tenant>/oauth2/v2.0/token).",
)

SubscriptionId = Annotated[str, Path(alias="subscriptionId", description="The service's subscription id.")]
ResourceGroupName = Annotated[
    str, Path(alias="resourceGroupName", pattern=RESOURCE_GROUP_PATTERN, description="Created on first use.")
]
RegistryName = Annotated[
    str,
    Path(
        alias="registryName",
        pattern=REGISTRY_NAME.pattern,
        description="5 to 50 letters and digits.",
    ),
]


def accept_api_version(
    api_version: Annotated[
        str | None, Query(alias="api-version", description="Accepted and ignored.")
    ] = None,
) -> None:
    """ARM clients always send ``api-version``; berth serves one version and ignores it."""


def reject_nul(request: Request) -> None:
    """NUL characters cannot name anything; refuse them before they reach a query."""
    if "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    ):
        raise ManagementError("InvalidParameter", "The request URL must not contain NUL characters.", 400)


COMMON = [Depends(accept_api_version), Depends(reject_nul)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "InvalidRequestContent, InvalidParameter, ..."},
    401: {"model": ErrorResponse, "description": "AuthenticationFailed, InvalidAuthenticationToken, ..."},
    403: {"model": ErrorResponse, "description": "AuthorizationFailed"},
    404: {"model": ErrorResponse, "description": "ResourceNotFound, SubscriptionNotFound"},
    409: {"model": ErrorResponse, "description": "AlreadyInUse, ScopeMapInUse, OperationNotAllowed, ..."},
}


@dataclass(frozen=True)
class Api:
    """The service, its management domain and the authenticated caller of one request."""

    services: Services
    management: Management
    caller: Caller

    @property
    def tenancy(self) -> Tenancy:
        return self.services.tenancy

    def require(self, permission: str, scope: str, action: str) -> None:
        """ARM's ``403 AuthorizationFailed`` unless the caller may do ``action`` at ``scope``.

        A caller whose roles there are data-plane roles only (AcrPull, AcrPush, ...) is told so.
        """
        try:
            self.caller.require(permission, scope, action)
        except ManagementError as exc:
            raise ManagementError(exc.code, exc.message + self._data_role_hint(scope), exc.status) from None

    def _data_role_hint(self, scope: str) -> str:
        names = []
        for assignment in self.caller.assignments:
            role = role_by_id(assignment.role_definition_id)
            if role is not None and not role.management and scope_covers(assignment.scope, scope):
                names.append(role.name)
        if not names:
            return ""
        held = ", ".join(sorted(set(names)))
        return (
            f" The caller's role here ({held}) grants access to the registry's content only; "
            "managing the registry resource needs Reader, Contributor or Owner."
        )

    def check_subscription(self, subscription_id: str) -> str:
        if subscription_id.lower() != self.tenancy.subscription_id.lower():
            raise ManagementError(
                "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.", 404
            )
        return self.tenancy.subscription_scope


async def or_none(lookup: Awaitable[T]) -> T | None:
    """The result of a lookup, or None where it answers ``404 ResourceNotFound``."""
    try:
        return await lookup
    except ManagementError as exc:
        if exc.status == 404:
            return None
        raise


async def deleted(deletion: Awaitable[None]) -> Response:
    """ARM's answer to a DELETE: 200 once ``deletion`` removed the resource, 204 where it answers
    ``404 ResourceNotFound`` (there was nothing to remove)."""
    try:
        await deletion
    except ManagementError as exc:
        if exc.status == 404:
            return Response(status_code=204)
        raise
    return Response(status_code=200)


async def get_api(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Api:
    services: Services = request.app.state.services
    management = services.management
    caller = await management.auth.caller(request.headers.get("authorization"))
    note_caller(request.scope, caller.identity.name)
    return Api(services, management, caller)


ApiDep = Annotated[Api, Depends(get_api)]


@dataclass(frozen=True)
class Scope:
    """An ARM scope named by the path: the subscription, a resource group or a registry."""

    api: Api
    id: str
    resource_group: str | None = None
    registry_name: str | None = None

    def require(self, permission: str, action: str) -> None:
        self.api.require(permission, self.id, action)

    async def registry(self) -> RegistryRecord:
        """The registry this scope names (404 ``ResourceNotFound`` if there is none)."""
        assert self.registry_name is not None
        assert self.resource_group is not None
        return await self.api.management.registries.get(self.registry_name, self.resource_group)

    async def authorized_registry(self, permission: str, action: str) -> RegistryRecord:
        """The registry this scope names, for a caller who may do ``action`` here (403 before 404:
        a caller without access does not learn which registries exist)."""
        self.require(permission, action)
        return await self.registry()

    async def registry_or_none(self) -> RegistryRecord | None:
        return await or_none(self.registry())

    def registry_id(self, record: RegistryRecord) -> str:
        return self.api.tenancy.registry_id(record)


async def subscription_scope(api: ApiDep, subscription_id: SubscriptionId) -> Scope:
    return Scope(api, api.check_subscription(subscription_id))


async def group_scope(
    api: ApiDep, subscription_id: SubscriptionId, resource_group: ResourceGroupName
) -> Scope:
    api.check_subscription(subscription_id)
    return Scope(api, api.tenancy.resource_group_scope(resource_group), resource_group)


async def registry_scope(
    api: ApiDep,
    subscription_id: SubscriptionId,
    resource_group: ResourceGroupName,
    registry_name: RegistryName,
) -> Scope:
    api.check_subscription(subscription_id)
    group = api.tenancy.resource_group_scope(resource_group)
    return Scope(
        api, f"{group}/providers/{PROVIDER}/registries/{registry_name}", resource_group, registry_name
    )


SubscriptionDep = Annotated[Scope, Depends(subscription_scope)]
GroupDep = Annotated[Scope, Depends(group_scope)]
RegistryDep = Annotated[Scope, Depends(registry_scope)]
