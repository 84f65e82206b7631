"""The event vocabulary: login events and repository events, and how a finished request
becomes them.

Columns follow ACR's ``ContainerRegistryLoginEvents`` / ``ContainerRegistryRepositoryEvents``
tables; berth adds the identity kind, the machine reason of a denial, a detail sentence and the
requested and granted scopes. No event ever holds a secret or a token (only a token's JWT id).
"""

from __future__ import annotations

from dataclasses import dataclass

from berth.access.model import Access, AuthOutcome, Identity, scope_string
from berth.events.observer import RequestSummary

# Denials that are part of the normal challenge dance, not an authentication attempt.
NOT_AN_ATTEMPT = frozenset({"no_credentials", ""})


@dataclass(frozen=True)
class LoginEvent:
    time: float
    registry_id: str | None
    registry: str
    login_server: str
    operation: str
    identity: str
    identity_kind: str
    caller_ip: str
    user_agent: str
    jwt_id: str
    correlation_id: str
    duration_ms: float
    result_type: str
    result_description: str
    reason: str
    detail: str
    requested_scopes: str
    granted_scopes: str


@dataclass(frozen=True)
class RepositoryEvent:
    time: float
    registry_id: str
    registry: str
    login_server: str
    operation: str
    identity: str
    identity_kind: str
    caller_ip: str
    user_agent: str
    correlation_id: str
    duration_ms: float
    result_type: str
    result_description: str
    repository: str
    tag: str
    digest: str
    media_type: str
    artifact_type: str
    size: int
    reason: str = ""
    detail: str = ""


def _identity_fields(identity: Identity | None) -> tuple[str, str]:
    if identity is None:
        return "", ""
    return identity.name, identity.kind.value


def _result(status: int) -> str:
    return "Succeeded" if 200 <= status < 400 else "Failed"


def login_event_for(summary: RequestSummary, now: float) -> LoginEvent | None:
    """The login event a finished request implies, if it was an authentication attempt."""
    outcome = _outcome(summary)
    if outcome is None:
        return None
    registry = summary.registry
    name, kind = _identity_fields(outcome.identity)
    status = summary.status if summary.status else outcome.status
    return LoginEvent(
        time=now,
        registry_id=registry.id if registry else None,
        registry=registry.name if registry else "",
        login_server=summary.login_server,
        operation=outcome.operation,
        identity=name,
        identity_kind=kind,
        caller_ip=summary.client_ip,
        user_agent=summary.user_agent[:512],
        jwt_id=outcome.jwt_id,
        correlation_id=summary.correlation_id,
        duration_ms=round(summary.duration_ms, 3),
        result_type=_result(status),
        result_description=str(status),
        reason=outcome.reason,
        detail=outcome.detail,
        requested_scopes=scope_string(outcome.requested),
        granted_scopes=scope_string(outcome.granted),
    )


def _outcome(summary: RequestSummary) -> AuthOutcome | None:
    if summary.auth is not None:
        return summary.auth
    denial = summary.denial
    if denial is not None and denial.reason not in NOT_AN_ATTEMPT:
        operation = denial.credential or summary.route or "request"
        return AuthOutcome(
            operation, denial.identity, denial.reason, denial.detail, denial.requested, status=summary.status
        )
    grant = summary.grant
    if grant is not None and grant.credential == "basic":
        requested: tuple[Access, ...] = tuple(sorted(grant.granted, key=lambda a: (a.type, a.name, a.action)))
        return AuthOutcome(
            "basic", grant.identity, requested=requested, granted=requested, status=summary.status
        )
    return None


def repository_events_for(summary: RequestSummary, now: float) -> list[RepositoryEvent]:
    registry = summary.registry
    if registry is None or not summary.operations:
        return []
    name, kind = _identity_fields(summary.grant.identity if summary.grant else None)
    return [
        RepositoryEvent(
            time=now,
            registry_id=registry.id,
            registry=registry.name,
            login_server=summary.login_server,
            operation=op.operation,
            identity=name,
            identity_kind=kind,
            caller_ip=summary.client_ip,
            user_agent=summary.user_agent[:512],
            correlation_id=summary.correlation_id,
            duration_ms=round(summary.duration_ms, 3),
            result_type=_result(summary.status),
            result_description=str(summary.status),
            repository=op.repository,
            tag=op.tag,
            digest=op.digest,
            media_type=op.media_type,
            artifact_type=op.artifact_type,
            size=op.size,
            reason=op.reason,
            detail=op.detail,
        )
        for op in summary.operations
    ]
