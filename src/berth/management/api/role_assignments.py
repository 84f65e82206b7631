"""Role definitions and role assignments at the subscription, a resource group or a registry.

Every operation exists at the three scopes ARM knows here, so the routes are made per scope
from one set of handlers. (No ``from __future__ import annotations`` in this module: the
handlers are closures whose annotations FastAPI must see as objects.)
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from berth.access.principals import GUID
from berth.access.roles import ROLES, find_role
from berth.access.roles import RoleDefinition as Role
from berth.management.api.deps import (
    COMMON,
    ERRORS,
    REGISTRY,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    Api,
    Scope,
    group_scope,
    or_none,
    registry_scope,
    subscription_scope,
)
from berth.management.api.fields import iso
from berth.management.api.filters import parse_filter
from berth.management.api.models import (
    ListOf,
    Permission,
    RoleAssignment,
    RoleAssignmentCreate,
    RoleAssignmentProperties,
    RoleDefinition,
    RoleDefinitionProperties,
)
from berth.management.authz import ASSIGN, READ
from berth.management.errors import ManagementError, not_found
from berth.management.principals import SCOPE
from berth.metadata.identities import USER
from berth.metadata.registries import RegistryRecord
from berth.metadata.role_assignments import RoleAssignmentRecord
from berth.tenancy import scope_covers

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Role assignments"])

AUTHORIZATION = "Microsoft.Authorization"
ASSIGNMENT_TYPE = f"{AUTHORIZATION}/roleAssignments"
DEFINITION_TYPE = f"{AUTHORIZATION}/roleDefinitions"
GUID_PATTERN = GUID.pattern

# What Azure's built-in roles list as their permissions (informational: berth decides with
# berth.access.roles, which these mirror).
PERMISSIONS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "AcrPull": (["Microsoft.ContainerRegistry/registries/pull/read"], [], []),
    "AcrPush": (
        [
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ],
        [],
        [],
    ),
    "AcrDelete": (["Microsoft.ContainerRegistry/registries/artifacts/delete"], [], []),
    "AcrImageSigner": (["Microsoft.ContainerRegistry/registries/sign/write"], [], []),
    "Reader": (["*/read"], [], []),
    "Contributor": (
        ["*"],
        [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ],
        [],
    ),
    "Owner": (["*"], [], []),
}

AssignmentName = Annotated[
    str, Path(alias="roleAssignmentName", pattern=GUID_PATTERN, description="The assignment's GUID.")
]
DefinitionName = Annotated[str, Path(alias="roleDefinitionId", description="A built-in role's id or name.")]
FilterParam = Annotated[
    str | None,
    Query(
        alias="$filter",
        max_length=1024,
        description="atScope(), principalId eq '<id>', assignedTo('<id>'), joined with 'and'.",
    ),
]
DefinitionFilterParam = Annotated[
    str | None, Query(alias="$filter", max_length=1024, description="roleName eq '<name>'")
]

# --- shaping --------------------------------------------------------------------------------


def definition_id(api: Api, role_id: str) -> str:
    return f"{api.tenancy.subscription_scope}/providers/{DEFINITION_TYPE}/{role_id}"


def definition_view(api: Api, role: Role) -> RoleDefinition:
    actions, not_actions, data_actions = PERMISSIONS.get(role.name, ([], [], []))
    return RoleDefinition(
        id=definition_id(api, role.id),
        name=role.id,
        type=DEFINITION_TYPE,
        properties=RoleDefinitionProperties(
            role_name=role.name,
            type="BuiltInRole",
            description=role.description,
            assignable_scopes=["/"],
            permissions=[
                Permission(
                    actions=actions, not_actions=not_actions, data_actions=data_actions, not_data_actions=[]
                )
            ],
        ),
    )


class _Shaper:
    """Turns stored assignments (lower-cased scopes) into ARM JSON with the resources' own casing."""

    def __init__(
        self, api: Api, registries: list[RegistryRecord], kinds: dict[str, str], spelled: str
    ) -> None:
        self.api = api
        self.spelled = spelled  # the request's scope, as the caller spelled it
        self.registries = {r.name.lower(): r for r in registries}
        self.groups = {r.resource_group.lower(): r.resource_group for r in registries}
        self.kinds = kinds

    @classmethod
    async def load(cls, scope: Scope) -> "_Shaper":
        api = scope.api
        registries = await api.management.registries.list_registries()
        principals = await api.management.principals.list_principals()
        return cls(api, registries, {p.id: p.kind for p in principals}, scope.id)

    def scope(self, stored: str) -> str:
        tenancy = self.api.tenancy
        found = SCOPE.match(stored)
        if found is not None and found["registry"] is None and stored == self.spelled.lower():
            return tenancy.subscription_scope if found["rg"] is None else self.spelled
        if found is None or found["rg"] is None:
            return tenancy.subscription_scope if found else stored
        if found["registry"] is not None:
            record = self.registries.get(found["registry"])
            if record is not None and record.resource_group.lower() == found["rg"]:
                return tenancy.registry_id(record)
            return stored
        return tenancy.resource_group_scope(self.groups.get(found["rg"], found["rg"]))

    def view(self, record: RoleAssignmentRecord) -> RoleAssignment:
        scope = self.scope(record.scope)
        kind = self.kinds.get(record.principal_id)
        return RoleAssignment(
            id=f"{scope}/providers/{ASSIGNMENT_TYPE}/{record.id}",
            name=record.id,
            type=ASSIGNMENT_TYPE,
            properties=RoleAssignmentProperties(
                role_definition_id=definition_id(self.api, record.role_definition_id),
                principal_id=record.principal_id,
                principal_type="User" if kind == USER else "ServicePrincipal",
                scope=scope,
                created_on=iso(record.created_at),
                updated_on=iso(record.created_at),
            ),
        )


async def _at_scope(scope: Scope, assignment_id: str) -> RoleAssignmentRecord:
    """The assignment with this id made at exactly this scope (404 otherwise)."""
    record = await scope.api.management.principals.get_assignment(assignment_id.lower())
    if record.scope != scope.id.rstrip("/").lower():
        raise not_found("role assignment", assignment_id, scope.id)
    return record


async def _check_exists(scope: Scope) -> None:
    if scope.registry_name is not None:
        await scope.registry()


# --- handlers, per scope ---------------------------------------------------------------------

ScopeDependency = Callable[..., Coroutine[Any, Any, Scope]]


def _add_routes(kind: str, prefix: str, scope_dependency: ScopeDependency) -> None:
    ScopeParam = Annotated[Scope, Depends(scope_dependency)]  # noqa: N806 - a type alias
    assignments = prefix + f"/providers/{ASSIGNMENT_TYPE}"
    definitions = prefix + f"/providers/{DEFINITION_TYPE}"

    async def list_definitions(
        scope: ScopeParam, filter_: DefinitionFilterParam = None
    ) -> ListOf[RoleDefinition]:
        """The built-in roles (Azure's ids); ``$filter=roleName eq 'AcrPull'`` picks one."""
        wanted = parse_filter(filter_, ("roleName", "type"))
        roles = [r for r in ROLES if wanted.matches({"rolename": r.name, "type": "BuiltInRole"})]
        return ListOf[RoleDefinition](value=[definition_view(scope.api, role) for role in roles])

    async def get_definition(scope: ScopeParam, role_id: DefinitionName) -> RoleDefinition:
        role = find_role(role_id)
        if role is None:
            raise ManagementError(
                "RoleDefinitionDoesNotExist", f"The role definition '{role_id}' could not be found.", 404
            )
        return definition_view(scope.api, role)

    async def list_assignments(scope: ScopeParam, filter_: FilterParam = None) -> ListOf[RoleAssignment]:
        """Assignments at, above and below the scope (``atScope()``: at and above only)."""
        scope.require(READ, f"{ASSIGNMENT_TYPE}/read")
        wanted = parse_filter(filter_, ("principalId",), functions=True)
        await _check_exists(scope)
        principal = wanted.assigned_to or wanted.equals.get("principalid")
        records = await scope.api.management.principals.assignments()
        chosen = [
            r
            for r in records
            if (scope_covers(r.scope, scope.id) or (not wanted.at_scope and scope_covers(scope.id, r.scope)))
            and (principal is None or r.principal_id == principal.lower())
        ]
        shaper = await _Shaper.load(scope)
        return ListOf[RoleAssignment](value=[shaper.view(r) for r in chosen])

    async def get_assignment(scope: ScopeParam, name: AssignmentName) -> RoleAssignment:
        scope.require(READ, f"{ASSIGNMENT_TYPE}/read")
        record = await _at_scope(scope, name)
        return (await _Shaper.load(scope)).view(record)

    async def put_assignment(
        scope: ScopeParam, name: AssignmentName, body: RoleAssignmentCreate, response: Response
    ) -> RoleAssignment:
        """Give a principal a role at this scope (201); the same assignment again answers 200."""
        scope.require(ASSIGN, f"{ASSIGNMENT_TYPE}/write")
        principals = scope.api.management.principals
        properties = body.properties
        role = principals.role(properties.role_definition_id)
        existing = await or_none(principals.get_assignment(name.lower()))
        if existing is not None:
            same = (existing.principal_id, existing.role_definition_id, existing.scope) == (
                properties.principal_id,
                role.id,
                scope.id.lower(),
            )
            if not same:
                raise ManagementError(
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    409,
                )
            return (await _Shaper.load(scope)).view(existing)
        principal = await or_none(principals.find(properties.principal_id))
        if principal is None:
            raise ManagementError(
                "PrincipalNotFound",
                f"Principal {properties.principal_id} does not exist in the directory "
                f"{scope.api.tenancy.tenant_id}.",
                400,
                "properties.principalId",
            )
        record = await principals.assign(principal, role, scope.id, name.lower())
        if record.id != name.lower():
            raise ManagementError(
                "RoleAssignmentExists",
                f"The role assignment already exists (its name is {record.id}).",
                409,
            )
        response.status_code = 201
        return (await _Shaper.load(scope)).view(record)

    async def delete_assignment(scope: ScopeParam, name: AssignmentName) -> Response:
        """Remove an assignment (200 with it; 204 if there was none at this scope)."""
        scope.require(ASSIGN, f"{ASSIGNMENT_TYPE}/delete")
        record = await or_none(_at_scope(scope, name))
        if record is None:
            return Response(status_code=204)
        shaped = (await _Shaper.load(scope)).view(record)
        await scope.api.management.principals.unassign(record.id)
        return Response(shaped.model_dump_json(by_alias=True), media_type="application/json")

    created: dict[int | str, dict[str, Any]] = {201: {"model": RoleAssignment, "description": "Created"}}
    deleted: dict[int | str, dict[str, Any]] = {
        200: {"model": RoleAssignment, "description": "Deleted"},
        204: {"description": "There was no such assignment at this scope"},
    }
    add = router.add_api_route
    add(definitions, list_definitions, methods=["GET"], operation_id=f"RoleDefinitions_ListFor{kind}")
    add(
        definitions + "/{roleDefinitionId}",
        get_definition,
        methods=["GET"],
        operation_id=f"RoleDefinitions_GetFor{kind}",
    )
    add(assignments, list_assignments, methods=["GET"], operation_id=f"RoleAssignments_ListFor{kind}")
    assignment = assignments + "/{roleAssignmentName}"
    add(assignment, get_assignment, methods=["GET"], operation_id=f"RoleAssignments_GetFor{kind}")
    add(
        assignment,
        put_assignment,
        methods=["PUT"],
        responses=created,
        operation_id=f"RoleAssignments_CreateFor{kind}",
    )
    add(
        assignment,
        delete_assignment,
        methods=["DELETE"],
        response_class=Response,
        responses=deleted,
        operation_id=f"RoleAssignments_DeleteFor{kind}",
    )


for _kind, _prefix, _dependency in (
    ("Subscription", SUBSCRIPTION, subscription_scope),
    ("ResourceGroup", RESOURCE_GROUP, group_scope),
    ("Registry", REGISTRY, registry_scope),
):
    _add_routes(_kind, _prefix, _dependency)
