"""Role assignments: a principal holds a role definition at an ARM scope."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.engine import RowMapping

from berth.metadata.access_schema import identities, role_assignments
from berth.metadata.driver_query import DriverQuery
from berth.metadata.identities import IdentityRecord, identity_record


@dataclass(frozen=True)
class RoleAssignmentRecord:
    id: str
    principal_id: str
    role_definition_id: str
    scope: str
    created_at: float


def _record(row: Mapping[str, Any] | RowMapping) -> RoleAssignmentRecord:
    return RoleAssignmentRecord(
        row["id"], row["principal_id"], row["role_definition_id"], row["scope"], row["created_at"]
    )


def create(
    conn: Connection,
    principal_id: str,
    role_definition_id: str,
    scope: str,
    assignment_id: str | None = None,
) -> RoleAssignmentRecord:
    """Assign a role; assigning the same role at the same scope again returns the existing one.

    ``assignment_id`` is the GUID a client chose (ARM's ``PUT .../roleAssignments/{guid}``);
    without it one is generated.
    """
    scope = scope.rstrip("/").lower()
    existing = (
        conn.execute(
            select(role_assignments).where(
                role_assignments.c.principal_id == principal_id,
                role_assignments.c.role_definition_id == role_definition_id,
                role_assignments.c.scope == scope,
            )
        )
        .mappings()
        .first()
    )
    if existing:
        return _record(existing)
    record = RoleAssignmentRecord(
        assignment_id or str(uuid.uuid4()), principal_id, role_definition_id, scope, time.time()
    )
    conn.execute(
        role_assignments.insert().values(
            id=record.id,
            principal_id=principal_id,
            role_definition_id=role_definition_id,
            scope=scope,
            created_at=record.created_at,
        )
    )
    return record


# Built once: read on every token request of a user or service principal (see identities._BY_ID).
_FOR_PRINCIPAL = select(role_assignments).where(role_assignments.c.principal_id == bindparam("principal_id"))


def for_principal(conn: Connection, principal_id: str) -> list[RoleAssignmentRecord]:
    return [_record(row) for row in conn.execute(_FOR_PRINCIPAL, {"principal_id": principal_id}).mappings()]


def list_all(conn: Connection) -> list[RoleAssignmentRecord]:
    query = select(role_assignments).order_by(role_assignments.c.created_at)
    return [_record(row) for row in conn.execute(query).mappings()]


def get(conn: Connection, assignment_id: str) -> RoleAssignmentRecord | None:
    row = (
        conn.execute(select(role_assignments).where(role_assignments.c.id == assignment_id))
        .mappings()
        .first()
    )
    return _record(row) if row else None


def remove(conn: Connection, assignment_id: str) -> bool:
    return conn.execute(delete(role_assignments).where(role_assignments.c.id == assignment_id)).rowcount > 0


def remove_under_scope(conn: Connection, scope: str) -> int:
    """Drop assignments at a scope and below it (when a registry is deleted)."""
    scope = scope.rstrip("/").lower()
    statement = delete(role_assignments).where(
        (role_assignments.c.scope == scope) | role_assignments.c.scope.startswith(scope + "/")
    )
    return conn.execute(statement).rowcount


# The identity behind every refresh token or bearer check of a user or service principal, with
# its role assignments: one statement (one snapshot, no transaction needed) on the DBAPI cursor.
_IDENTITY_WITH_ASSIGNMENTS = DriverQuery(
    select(
        identities,
        role_assignments.c.id.label("assignment_id"),
        role_assignments.c.role_definition_id,
        role_assignments.c.scope,
        role_assignments.c.created_at.label("assigned_at"),
    )
    .select_from(identities.outerjoin(role_assignments, role_assignments.c.principal_id == identities.c.id))
    .where(identities.c.id == bindparam("identity_id"))
)


def identity_with_assignments(
    conn: Connection, identity_id: str
) -> tuple[IdentityRecord, list[RoleAssignmentRecord]] | None:
    """A directory identity and the roles it holds, read together; None if it does not exist."""
    rows = _IDENTITY_WITH_ASSIGNMENTS.rows(conn, {"identity_id": identity_id})
    if not rows:
        return None
    assignments = [
        RoleAssignmentRecord(
            row["assignment_id"], identity_id, row["role_definition_id"], row["scope"], row["assigned_at"]
        )
        for row in rows
        if row["assignment_id"] is not None
    ]
    return identity_record(rows[0]), assignments
