"""What an identity may do in one registry, and the intersection with what it asked for."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from berth.access.roles import ALL_DATA, CATALOG, READ, role_by_id
from berth.access.scopes import Scope, ScopeMapEntry, actions_for_repository, parse_scope_map_action
from berth.metadata.role_assignments import RoleAssignmentRecord
from berth.tenancy import scope_covers


@dataclass(frozen=True)
class RegistryPermissions:
    """Registry-wide actions (RBAC, admin, anonymous) plus per-repository scope-map entries."""

    wide: frozenset[str] = frozenset()
    entries: tuple[ScopeMapEntry, ...] = ()

    def actions_for(self, kind: str, name: str) -> frozenset[str]:
        return _actions_for(self, kind, name)

    def _compute_actions_for(self, kind: str, name: str) -> frozenset[str]:
        if kind == "registry":
            return frozenset({"*"}) if name == "catalog" and CATALOG in self.wide else frozenset()
        if kind not in ("repository", "artifact-repository"):
            return frozenset()
        return (self.wide - {CATALOG}) | actions_for_repository(self.entries, name)

    def grant(self, scopes: list[Scope]) -> list[tuple[str, str, list[str]]]:
        """Each requested scope with the actions granted (possibly none), in request order."""
        granted: list[tuple[str, str, list[str]]] = []
        for scope in scopes:
            allowed = self.actions_for(scope.type, scope.name)
            if "*" in scope.actions and scope.type == "repository":
                actions = sorted(allowed)
            else:
                actions = [action for action in scope.actions if action in allowed]
            granted.append((scope.type, scope.name, actions))
        return granted


@functools.lru_cache(maxsize=8192)
def _actions_for(permissions: RegistryPermissions, kind: str, name: str) -> frozenset[str]:
    return permissions._compute_actions_for(kind, name)


ADMIN = RegistryPermissions(ALL_DATA)
# Anonymous pull is pull: ACR documents it as "read (pull) actions" only, so listing the
# catalog stays off unless the operator opts in (setting anonymous_pull_lists_catalog).
ANONYMOUS = RegistryPermissions(READ - {CATALOG})
ANONYMOUS_WITH_CATALOG = RegistryPermissions(READ)


def from_roles(assignments: list[RoleAssignmentRecord], registry_resource_id: str) -> RegistryPermissions:
    actions: set[str] = set()
    for assignment in assignments:
        role = role_by_id(assignment.role_definition_id)
        if role is not None and scope_covers(assignment.scope, registry_resource_id):
            actions |= role.data_actions
    return RegistryPermissions(frozenset(actions))


def has_role_on(assignments: list[RoleAssignmentRecord], registry_resource_id: str) -> bool:
    return any(scope_covers(a.scope, registry_resource_id) for a in assignments)


def from_scope_map(actions: tuple[str, ...]) -> RegistryPermissions:
    return RegistryPermissions(entries=tuple(parse_scope_map_action(action) for action in actions))
