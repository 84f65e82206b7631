"""Built-in role definitions and what each grants on the data plane and the management API.

Ids are Azure's built-in role ids, so scripts written for ACR find the same roles.
"""

from __future__ import annotations

from dataclasses import dataclass

CATALOG = "catalog"
READ = frozenset({"pull", "metadata_read", CATALOG})
ALL_DATA = frozenset(
    {"pull", "push", "delete", "metadata_read", "metadata_write", "deleted_read", "deleted_restore", CATALOG}
)

# Management permissions: read the resource, change it, manage role assignments.
MANAGE_READ = "read"
MANAGE_WRITE = "write"
MANAGE_ASSIGN = "assign"


@dataclass(frozen=True)
class RoleDefinition:
    id: str
    name: str
    description: str
    data_actions: frozenset[str]
    management: frozenset[str] = frozenset()


ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition("7f951dda-4ed3-4680-a7ca-43fe172d538d", "AcrPull", "acr pull", READ),
    RoleDefinition(
        "8311e382-0749-4cb8-b61a-304f252e45ec",
        "AcrPush",
        "acr push",
        READ | {"push", "metadata_write"},
    ),
    RoleDefinition("c2f4ef07-c644-48eb-af81-4b1b4947fb11", "AcrDelete", "acr delete", frozenset({"delete"})),
    RoleDefinition("6cef56e8-d556-48e5-a04f-b8e64114680f", "AcrImageSigner", "acr image signer", frozenset()),
    RoleDefinition(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Reader",
        "View all resources, but does not allow you to make any changes.",
        READ | {"deleted_read"},
        frozenset({MANAGE_READ}),
    ),
    RoleDefinition(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles.",
        ALL_DATA,
        frozenset({MANAGE_READ, MANAGE_WRITE}),
    ),
    RoleDefinition(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Owner",
        "Grants full access to manage all resources, including the ability to assign roles.",
        ALL_DATA,
        frozenset({MANAGE_READ, MANAGE_WRITE, MANAGE_ASSIGN}),
    ),
)

_BY_ID = {role.id: role for role in ROLES}
_BY_NAME = {role.name.lower(): role for role in ROLES}


def find_role(name_or_id: str) -> RoleDefinition | None:
    """A role by name (case-insensitive), id, or full role definition resource id."""
    key = name_or_id.rstrip("/").rsplit("/", 1)[-1].lower()
    return _BY_ID.get(key) or _BY_NAME.get(key)


def role_by_id(role_id: str) -> RoleDefinition | None:
    return _BY_ID.get(role_id.lower())
