"""The data plane's access step: a bearer token (or Basic credentials) against the route's needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from berth.access.challenge import challenge, with_challenge
from berth.access.model import Access, AccessRequest, Denial, Grant, Identity
from berth.access.permissions import RegistryPermissions
from berth.access.principals import Principal
from berth.access.service import AccessService, parse_basic, rate_limited


def _allows(permissions: RegistryPermissions, access: Access) -> bool:
    return access.action in permissions.actions_for(access.type, access.name)


class TokenAccessController:
    def __init__(self, service: AccessService) -> None:
        self.service = service

    async def authorize(self, request: AccessRequest) -> Grant | Denial:
        scheme, _, value = (request.authorization or "").partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value:
            return await self._bearer(request, value.strip())
        if scheme == "basic" and value:
            return await self._basic(request, value)
        return Denial("no_credentials", challenge(request), requested=request.accesses)

    async def _bearer(self, request: AccessRequest, token: str) -> Grant | Denial:
        checked = await self.service.check_bearer(request.registry, token)
        if isinstance(checked, Denial):
            return replace(with_challenge(request, checked, "invalid_token"), credential="bearer")
        identity = checked.principal.identity
        permissions = checked.principal.permissions
        # What the token lists, and what the identity may still do now (a role removed after the
        # token was issued takes effect within seconds, not when the token expires).
        missing = [a for a in request.accesses if a not in checked.granted or not _allows(permissions, a)]
        if missing:
            return Denial(
                "insufficient_scope",
                challenge(request, "insufficient_scope"),
                identity,
                f"the token grants {_describe(checked.granted)}; the request needs {_describe(missing)}",
                request.accesses,
                credential="bearer",
            )
        return Grant(identity, checked.granted, checked.jwt_id, credential="bearer", permissions=permissions)

    async def _basic(self, request: AccessRequest, value: str) -> Grant | Denial:
        parsed = parse_basic(value)
        if parsed is None:
            return Denial("malformed_credentials", challenge(request), requested=request.accesses)
        username, password = parsed
        limits = self.service.limits
        wait = limits.retry_after(request.client_ip, username)
        if wait is not None:
            return with_challenge(request, rate_limited(Identity.presented(username), wait))
        resolved = await self.service.authenticate_basic(request.registry, username, password)
        if isinstance(resolved, Denial):
            limits.record_failure(request.client_ip, username)
            denial = with_challenge(request, resolved)
            return Denial(
                denial.reason,
                denial.error,
                denial.identity,
                denial.detail,
                denial.requested,
                credential="basic",
            )
        return self._check_principal(request, resolved)

    def _check_principal(self, request: AccessRequest, principal: Principal) -> Grant | Denial:
        missing = [a for a in request.accesses if not _allows(principal.permissions, a)]
        if missing:
            return Denial(
                "insufficient_scope",
                challenge(request, "insufficient_scope"),
                principal.identity,
                f"{principal.identity.label} lacks {_describe(missing)}",
                request.accesses,
                credential="basic",
            )
        return Grant(
            principal.identity,
            frozenset(request.accesses),
            credential="basic",
            permissions=principal.permissions,
        )


def _describe(accesses: Iterable[Access]) -> str:
    items = sorted(f"{a.type}:{a.name}:{a.action}" for a in accesses)
    return ", ".join(items) if items else "nothing"
