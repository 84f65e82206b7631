"""Resolving the session cookies to the signed-in user, renewing an expired access token."""

from __future__ import annotations

import time

from starlette.requests import Request

from berth.access.tokens import TokenRejected
from berth.directory.authorization import PORTAL_CLIENT_ID
from berth.directory.service import Directory, SignInFailure
from berth.directory.tokens import MANAGEMENT, REFRESH_TYPE, DirectoryTokens
from berth.management.errors import ManagementError
from berth.portal.session import REFRESH_COOKIE, SESSION_COOKIE, SESSION_SECONDS, PortalUser
from berth.services import Services


class Sessions:
    def __init__(self, services: Services, tokens: DirectoryTokens, directory: Directory) -> None:
        self.services = services
        self.tokens = tokens
        self.directory = directory

    async def resolve(self, request: Request) -> tuple[PortalUser | None, str | None]:
        """The signed-in user, and the new access token when the old one had to be renewed."""
        refresh = request.cookies.get(REFRESH_COOKIE, "")
        if not refresh:
            return None, None
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            user = await self._user(token, refresh)
            if user is not None:
                return user, None
        renewed = await self._renew(refresh)
        if renewed is None:
            return None, None
        return await self._user(renewed, refresh), renewed

    async def _user(self, token: str, refresh: str) -> PortalUser | None:
        try:
            caller = await self.services.management.auth.caller(f"Bearer {token}")
        except ManagementError:
            return None
        return PortalUser(caller, refresh, self.services.tenancy)

    async def _renew(self, refresh: str) -> str | None:
        """A new access token for the refresh token's user: the portal's own, at most
        :data:`SESSION_SECONDS` old, for a user still enabled and not reset since."""
        try:
            claims = self.tokens.verify(refresh, (self.tokens.issuer,), REFRESH_TYPE)
        except TokenRejected:
            return None
        if claims.raw.get("azp") != PORTAL_CLIENT_ID or claims.issued_at + SESSION_SECONDS < time.time():
            return None
        identity = await self.directory.still_valid(claims.object_id, claims.issued_at)
        if isinstance(identity, SignInFailure):
            return None
        return self.tokens.issue_access_token(identity, MANAGEMENT, PORTAL_CLIENT_ID)[0]
