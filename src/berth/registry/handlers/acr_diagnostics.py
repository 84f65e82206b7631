"""Self-service troubleshooting on the registry plane, for whoever holds only docker and a credential.

- ``GET /acr/v1/_diagnostics/identity``: who the credentials are and what they may do on this
  registry (registry-wide actions, or a token's scope map and its repositories).
- ``GET /acr/v1/_diagnostics/events?correlationId=|since=``: the login events of the caller's
  own identity (the same credentials that were accepted read them), newest first.
- ``GET /acr/v1/_diagnostics/requests/<correlation id>``: why a request (a login, or a push the
  storage quota refused) was rejected, told to
  whoever holds its correlation id and asks from the client address that made the request,
  without credentials and past the network rules (a refused client must learn that it was
  refused). Only what does not help an attacker is told: an unknown user name and a wrong
  secret are one answer, ``credentials_rejected``, as on the wire; the registry's owner reads
  the exact reason in the logs (``berth acr diagnose``, Reader or above).
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Connection
from starlette.responses import Response

from berth import errors
from berth.access.model import IdentityKind
from berth.access.permissions import RegistryPermissions
from berth.access.principals import Principal
from berth.access.roles import CATALOG
from berth.access.service import BearerCheck, parse_basic
from berth.errors import WireError
from berth.events import store
from berth.events.columns import as_columns
from berth.events.store import EventFilter
from berth.metadata import registry_access
from berth.registry.context import RequestContext
from berth.registry.responses import json_response

REJECTED_PREFIX = "/acr/v1/_diagnostics/requests/"
# Reasons a rejected request's correlation id may learn; the rest become one answer.
TOLD = frozenset(
    {
        "secret_expired",
        "token_expired",
        "token_not_yet_valid",
        "identity_disabled",
        "admin_disabled",
        "ip_denied",
        "public_network_disabled",
        "rate_limited",
        "no_role",
        "insufficient_scope",
        "anonymous_disabled",
        "wrong_registry",
        "storage_quota_exceeded",  # a refused push: docker printed the same facts already
    }
)
MERGED = "credentials_rejected"  # unknown_identity, bad_secret, token_invalid, ... as on the wire
_CORRELATION = re.compile(r"^[0-9a-fA-F-]{36}$")
_DAY = 86400.0


async def _principal(ctx: RequestContext) -> Principal | None:
    """The principal behind the request's (already accepted) credentials."""
    scheme, _, value = (ctx.request.headers.get("authorization") or "").partition(" ")
    auth = ctx.services.auth
    if scheme.lower() == "bearer":
        checked = await auth.check_bearer(ctx.registry, value.strip())
        return checked.principal if isinstance(checked, BearerCheck) else None
    parsed = parse_basic(value) if scheme.lower() == "basic" else None
    if parsed is None:
        return None
    resolved = await auth.authenticate_basic(ctx.registry, *parsed)
    return resolved if isinstance(resolved, Principal) else None


def _token_scope_map(conn: Connection, token_id: str) -> str | None:
    token = registry_access.get_token_by_id(conn, token_id)
    return token.scope_map if token is not None else None


def permissions_document(permissions: RegistryPermissions) -> dict[str, Any]:
    repositories: dict[str, list[str]] = {}
    for entry in permissions.entries:
        repositories.setdefault(entry.repository, []).append(entry.action)
    return {
        "registryActions": sorted(permissions.wide - {CATALOG}),
        "catalog": CATALOG in permissions.wide,
        "repositories": [{"repository": name, "actions": sorted(set(a))} for name, a in repositories.items()],
    }


async def identity(ctx: RequestContext) -> Response:
    principal = await _principal(ctx)
    if principal is None:
        raise WireError(errors.UNAUTHORIZED, "the credentials could not be read again")
    who = principal.identity
    document: dict[str, Any] = {"identity": who.name, "identityKind": who.kind.value}
    if who.kind is IdentityKind.TOKEN:
        document["scopeMap"] = await ctx.services.db.read(_token_scope_map, principal.subject.subject_id)
    document.update(permissions_document(principal.permissions))
    return json_response(document)


def _since(ctx: RequestContext) -> float:
    raw = ctx.request.query_params.get("since") or ""
    try:
        seconds = float(raw) if raw else 3600.0
    except ValueError:
        raise WireError(errors.UNSUPPORTED, "since must be a number of seconds") from None
    return time.time() - min(max(seconds, 0.0), 30 * _DAY)


async def own_events(ctx: RequestContext) -> Response:
    grant = ctx.grant
    if grant is None or not grant.identity.name:
        raise WireError(errors.UNAUTHORIZED, "sign in with the credentials whose requests to explain")
    correlation_id = ctx.request.query_params.get("correlationId") or None
    where = EventFilter(
        registry_id=ctx.registry.id,
        identity=grant.identity.name,
        correlation_id=correlation_id,
        since=None if correlation_id else _since(ctx),
        limit=200,
    )
    rows = await ctx.services.db.read(store.login_query, where)
    kind = grant.identity.kind.value
    own = [as_columns("login", row) for row in rows if row.get("identity_kind") == kind]
    return json_response({"identity": grant.identity.name, "identityKind": kind, "events": own})


def told(row: dict[str, Any]) -> dict[str, Any]:
    """What a rejected request's correlation id may learn about it."""
    reason = str(row.get("reason") or "")
    document: dict[str, Any] = {
        "correlationId": row.get("correlation_id"),
        "time": as_columns("login", row)["TimeGenerated"],
        "status": row.get("result_description"),
        "clientIp": row.get("caller_ip"),
    }
    if row.get("repository"):
        document.update(repository=row["repository"], operation=row.get("operation") or "")
    if reason in TOLD:
        document.update(
            reason=reason,
            identity=row.get("identity") or "",
            identityKind=row.get("identity_kind") or "",
            detail=row.get("detail") or "",
            requestedScopes=row.get("requested_scopes") or "",
            grantedScopes=row.get("granted_scopes") or "",
        )
    else:
        document["reason"] = MERGED
    return document


async def rejected_request(ctx: RequestContext) -> Response:
    correlation_id = ctx.params["correlation"]
    if not _CORRELATION.match(correlation_id):
        raise WireError(errors.NOT_FOUND, "not a correlation id")
    where = EventFilter(registry_id=ctx.registry.id, correlation_id=correlation_id, failed_only=True, limit=5)
    rows = await ctx.services.db.read(store.login_query, where)
    if not rows:  # a refused push is a repository event (the storage quota)
        rows = [row for row in await ctx.services.db.read(store.repository_query, where) if row.get("reason")]
    # Only the client that made the request may ask (correlation ids are not secrets): from another
    # address the request is as unknown as one that never happened.
    rows = [row for row in rows if row.get("caller_ip") == ctx.client_ip]
    if not rows:
        raise WireError(errors.NOT_FOUND, f"no rejected request with correlation id {correlation_id}")
    return json_response(told(rows[0]))
