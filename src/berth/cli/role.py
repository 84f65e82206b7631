"""``berth role assignment create|list|delete`` and ``berth role definition list``, as ``az role``.

Scopes are ARM ids: the subscription (``/subscriptions/<id>``), a resource group under it, or a
registry (``berth acr show -n <name> --query id -o tsv``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr.common import flatten
from berth.cli.client.http import ApiError
from berth.cli.framework import CliError, all_words, command, group, words_option

app = group("role", "Manage role assignments and role definitions (who may do what, where).")
assignment_app = group("assignment", "Manage role assignments.")
definition_app = group("definition", "List role definitions (berth's built-in roles, with Azure's ids).")

Assignee = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--assignee", help="The user (UPN or object id) or service principal (app id, object id or name)."
    ),
]
Role = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--role", help="Role name or id, e.g. AcrPull, AcrPush, Reader, Contributor, Owner."),
]
Scope = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--scope", help="Scope: the subscription, a resource group, or a registry id."),
]


def resolve_principal(assignee: str) -> dict[str, Any]:
    """A user or service principal as Graph returns it, plus ``principalType``."""
    management = context.current().management
    kinds = (
        [("users", "User")]
        if "@" in assignee
        else [("servicePrincipals", "ServicePrincipal"), ("users", "User")]
    )
    for kind, principal_type in kinds:
        try:
            found = management.graph_get(kind, assignee)
        except ApiError as exc:
            if exc.status in (400, 404):
                continue
            raise
        return {**found, "principalType": principal_type}
    named = [
        sp
        for sp in management.graph_list("servicePrincipals")
        if str(sp.get("displayName", "")).lower() == assignee.lower()
    ]
    if len(named) == 1:
        return {**named[0], "principalType": "ServicePrincipal"}
    raise CliError(
        f"Cannot find user or service principal in graph database for '{assignee}'. If the assignee is an "
        "appId, make sure the corresponding service principal is created with 'berth ad sp create-for-rbac'."
    )


def _principal_name(principal: dict[str, Any]) -> str:
    return str(
        principal.get("userPrincipalName") or principal.get("appId") or principal.get("displayName") or ""
    )


def definition_view(definition: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in definition.items() if k != "properties"}
    for key, value in (definition.get("properties") or {}).items():
        view["roleType" if key == "type" else key] = value
    return view


def _last_segment(resource_id: str) -> str:
    """A role definition's name (its GUID, lower case) from its id or a role assignment's reference."""
    return resource_id.rsplit("/", 1)[-1].lower()


def _role_name(definition: dict[str, Any]) -> str:
    return str((definition.get("properties") or {}).get("roleName", ""))


def _is_role(definition: dict[str, Any], key: str) -> bool:
    """Whether ``key`` (lower case) is the definition's name (GUID) or its role name."""
    return key in (str(definition.get("name", "")).lower(), _role_name(definition).lower())


def _role_names(definitions: list[dict[str, Any]]) -> dict[str, str]:
    """Role definition name (GUID, lower case) → role name."""
    return {str(d.get("name", "")).lower(): _role_name(d) for d in definitions}


def find_definition(role: str, scope: str) -> dict[str, Any]:
    key = _last_segment(role.rstrip("/"))
    for definition in context.current().management.role_definitions(scope):
        if _is_role(definition, key):
            return definition
    raise CliError(f"Role '{role}' doesn't exist.")


def _names() -> tuple[dict[str, str], dict[str, str]]:
    """(role definition id → role name, principal object id → name) for list output."""
    management = context.current().management
    roles = _role_names(management.role_definitions(management.subscription_scope))
    principals: dict[str, str] = {}
    for kind in ("users", "servicePrincipals"):
        try:
            principals.update({str(p.get("id")): _principal_name(p) for p in management.graph_list(kind)})
        except ApiError:
            continue
    return roles, principals


def assignment_view(
    assignment: dict[str, Any], roles: dict[str, str], principals: dict[str, str]
) -> dict[str, Any]:
    view = flatten(assignment)
    view["roleDefinitionName"] = roles.get(_last_segment(str(view.get("roleDefinitionId", ""))))
    view["principalName"] = principals.get(str(view.get("principalId")))
    return view


def assignment_table(result: Any) -> list[dict[str, Any]]:
    rows = result if isinstance(result, list) else [result]
    return [
        {"Principal": r.get("principalName"), "Role": r.get("roleDefinitionName"), "Scope": r.get("scope")}
        for r in rows
    ]


def create(
    role: Annotated[str, typer.Option("--role", help="Role name or id, e.g. AcrPull or AcrPush.")],
    scope: Annotated[
        str, typer.Option("--scope", help="Scope: the subscription, a resource group, or a registry id.")
    ],
    assignee: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--assignee", help="The user (UPN or object id) or service principal (app id, object id or name)."
        ),
    ] = None,
    assignee_object_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--assignee-object-id",
            help="The principal's object id, without a directory lookup (a managed identity's principalId).",
        ),
    ] = None,
    assignee_principal_type: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--assignee-principal-type", help="Accepted for az compatibility (User, ServicePrincipal)."
        ),
    ] = None,
) -> dict[str, Any]:
    """Create a role assignment: give a principal a role at a scope."""
    if bool(assignee) == bool(assignee_object_id):
        raise CliError("usage error: give exactly one of --assignee and --assignee-object-id.")
    management = context.current().management
    principal = resolve_principal(assignee) if assignee else {"id": assignee_object_id}
    definition = find_definition(role, scope)
    created = management.create_role_assignment(
        scope, str(uuid.uuid4()), str(definition["id"]), str(principal["id"])
    )
    principals = {str(principal["id"]): _principal_name(principal)}
    return assignment_view(created, _role_names([definition]), principals)


def _matching(assignee: str | None, role: str | None, scope: str | None) -> list[dict[str, Any]]:
    management = context.current().management
    scope = scope or management.subscription_scope
    principal_id = str(resolve_principal(assignee)["id"]) if assignee else None
    found = management.role_assignments(scope, principal_id)
    if principal_id:
        found = [a for a in found if (a.get("properties") or {}).get("principalId") == principal_id]
    if role:
        role_id = str(find_definition(role, scope).get("name", "")).lower()
        found = [
            a
            for a in found
            if _last_segment(str((a.get("properties") or {}).get("roleDefinitionId", ""))) == role_id
        ]
    return found


def list_assignments(
    assignee: Assignee = None,
    role: Role = None,
    scope: Scope = None,
    all_scopes: Annotated[
        bool, typer.Option("--all", help="Show all assignments of the subscription.")
    ] = False,
) -> list[dict[str, Any]]:
    """List role assignments (the whole subscription unless --scope)."""
    roles, principals = _names()
    return [assignment_view(a, roles, principals) for a in _matching(assignee, role, scope)]


def delete(
    ids: Annotated[
        Optional[list[str]],  # noqa: UP045
        words_option("--ids", metavar="ID...", help="Ids of the role assignments to delete."),
    ] = None,
    assignee: Assignee = None,
    role: Role = None,
    scope: Scope = None,
) -> None:
    """Delete role assignments, by id or by assignee, role and scope."""
    management = context.current().management
    targets = all_words(ids)
    if not targets:
        if not (assignee or role or scope):
            raise CliError("usage error: --ids ID [ID ...] | --assignee ASSIGNEE --role ROLE --scope SCOPE")
        matched = _matching(assignee, role, scope)
        if scope:
            matched = [
                a
                for a in matched
                if str((a.get("properties") or {}).get("scope", "")).lower() == scope.rstrip("/").lower()
            ]
        targets = [str(a["id"]) for a in matched]
    if not targets:
        raise CliError("No matched assignments were found to delete")
    for target in targets:
        management.delete_role_assignment(target)


def list_definitions(
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", "-n", help="A role's name (e.g. AcrPull) or id."),
    ] = None,
    scope: Scope = None,
) -> list[dict[str, Any]]:
    """List role definitions."""
    management = context.current().management
    definitions = management.role_definitions(scope or management.subscription_scope)
    if name:
        definitions = [d for d in definitions if _is_role(d, name.lower())]
    return [definition_view(d) for d in definitions]


def register(root: typer.Typer) -> None:
    command(assignment_app, "create", table=assignment_table)(create)
    command(assignment_app, "list", table=assignment_table)(list_assignments)
    command(assignment_app, "delete")(delete)
    command(definition_app, "list")(list_definitions)
    app.add_typer(assignment_app, name="assignment")
    app.add_typer(definition_app, name="definition")
    root.add_typer(app, name="role")
