"""Access control (IAM): who holds which role at or above a registry; Owners add and remove them.

Listing needs Reader or above; adding and removing needs ``assign`` (Owner), as the management
API's role assignment routes require.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from berth.access.roles import ROLES, role_by_id
from berth.management.authz import ASSIGN, READ
from berth.management.errors import ManagementError
from berth.portal.pages import Portal, read_form
from berth.portal.session import PortalUser
from berth.tenancy import scope_covers

ASSIGNMENTS = "Microsoft.Authorization/roleAssignments"


class IamPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.principals = portal.services.management.principals

    async def page(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        scope = user.registry_id(record)
        user.caller.require(READ, scope, f"{ASSIGNMENTS}/read")
        identities = {i.id: i for i in await self.principals.list_principals()}
        rows = []
        for assignment in await self.principals.assignments():
            if not scope_covers(assignment.scope, scope):
                continue
            role = role_by_id(assignment.role_definition_id)
            principal = identities.get(assignment.principal_id)
            rows.append(
                {
                    "id": assignment.id,
                    "role": role.name if role else assignment.role_definition_id,
                    "principal": principal.name if principal else assignment.principal_id,
                    "kind": principal.kind if principal else "unknown",
                    "scope": assignment.scope,
                    "here": assignment.scope.lower() == scope.lower(),
                }
            )
        return self.portal.render(
            request,
            "iam.html",
            user,
            registry=record,
            rows=rows,
            roles=[role.name for role in ROLES],
            can_assign=user.can_assign(record),
            manage=True,
            tab="iam",
        )

    async def add(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        scope = user.registry_id(record)
        user.caller.require(ASSIGN, scope, f"{ASSIGNMENTS}/write")
        form = await read_form(request)
        role = self.principals.role(form.one("role"))
        principal = await self.principals.find(form.one("assignee").strip())
        await self.principals.assign(principal, role, scope)
        return RedirectResponse(f"/portal/r/{record.name}/iam", status_code=303)

    async def remove(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        scope = user.registry_id(record)
        user.caller.require(ASSIGN, scope, f"{ASSIGNMENTS}/delete")
        form = await read_form(request)
        assignment = await self.principals.get_assignment(form.one("assignment"))
        if assignment.scope.lower() != scope.lower():
            raise ManagementError(
                "ScopeMismatch",
                "That role assignment is not at this registry; remove it where it was made.",
                400,
            )
        await self.principals.unassign(assignment.id)
        return RedirectResponse(f"/portal/r/{record.name}/iam", status_code=303)
