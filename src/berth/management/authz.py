"""Who is calling the management API, and may they do this here?

Callers present a directory access token for the management audience. Owner, Contributor and
Reader (and nothing else) grant management permissions, evaluated at the target scope with
ARM's inheritance (a role on the subscription or resource group covers what is below it).
Answers use ARM's error codes and wording, so a refusal reads like Azure's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from berth.access.roles import MANAGE_ASSIGN, MANAGE_READ, MANAGE_WRITE, role_by_id
from berth.access.tokens import TokenRejected
from berth.directory.tokens import MANAGEMENT, DirectoryTokens
from berth.management.errors import ManagementError
from berth.metadata import identities as identity_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.metadata.identities import IdentityRecord
from berth.metadata.role_assignments import RoleAssignmentRecord
from berth.tenancy import scope_covers

READ = MANAGE_READ
WRITE = MANAGE_WRITE
ASSIGN = MANAGE_ASSIGN


@dataclass(frozen=True)
class Caller:
    identity: IdentityRecord
    assignments: tuple[RoleAssignmentRecord, ...]

    def permissions_at(self, resource_id: str) -> frozenset[str]:
        granted: set[str] = set()
        for assignment in self.assignments:
            role = role_by_id(assignment.role_definition_id)
            if role is not None and scope_covers(assignment.scope, resource_id):
                granted |= role.management
        return frozenset(granted)

    def can(self, permission: str, resource_id: str) -> bool:
        return permission in self.permissions_at(resource_id)

    def require(self, permission: str, resource_id: str, action: str) -> None:
        """Raise ARM's ``403 AuthorizationFailed`` unless the caller holds ``permission`` here."""
        if not self.can(permission, resource_id):
            raise ManagementError(
                "AuthorizationFailed",
                f"The client '{self.identity.name}' with object id '{self.identity.id}' does not have "
                f"authorization to perform action '{action}' over scope '{resource_id}' or the scope is "
                "invalid. If access was recently granted, please refresh your credentials.",
                403,
            )


def _unauthenticated(code: str, message: str) -> ManagementError:
    return ManagementError(code, message, 401)


class ManagementAuth:
    def __init__(self, db: Database, tokens: DirectoryTokens) -> None:
        self._db = db
        self._tokens = tokens

    async def caller(self, authorization: str | None) -> Caller:
        scheme, _, token = (authorization or "").partition(" ")
        if not authorization:
            raise _unauthenticated(
                "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is not a Bearer token.",
            )
        try:
            claims = self._tokens.verify(token.strip(), (MANAGEMENT,))
        except TokenRejected as exc:
            if exc.reason == "token_expired":
                now = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
                raise _unauthenticated(
                    "ExpiredAuthenticationToken",
                    f"The access token has expired (current UTC time '{now}'). Sign in again: berth login.",
                ) from None
            raise _unauthenticated(
                "InvalidAuthenticationToken", f"The access token is invalid: {exc}"
            ) from None

        def load(conn: Connection) -> tuple[IdentityRecord | None, list[RoleAssignmentRecord]]:
            record = identity_rows.get(conn, claims.object_id)
            return record, assignment_rows.for_principal(conn, claims.object_id) if record else []

        record, assignments = await self._db.read(load)
        if record is None or not record.enabled or claims.issued_at < record.valid_after:
            raise _unauthenticated(
                "InvalidAuthenticationToken",
                "The access token is invalid: its identity was deleted, disabled or reset. Sign in again.",
            )
        return Caller(record, tuple(assignments))
