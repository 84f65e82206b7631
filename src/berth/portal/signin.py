"""Signing in to the portal through the directory (authorization code + PKCE), and out again.

``/portal/signin`` makes a random ``state`` and PKCE verifier, keeps them in a short-lived
HttpOnly cookie and sends the browser to the directory's authorize page. The directory redirects
back to ``/portal/auth/callback`` with a code; the portal checks the state, redeems the code with
the verifier (the same redemption as the token endpoint's ``authorization_code`` grant) and
keeps the management access token issued for the user in the session cookie.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from berth.directory.authorization import PORTAL_CLIENT_ID, PORTAL_REDIRECT_PATH, AuthorizationEndpoints
from berth.directory.authorization_codes import s256
from berth.directory.service import SignInFailure
from berth.directory.tokens import MANAGEMENT, DirectoryTokens
from berth.portal.pages import Portal
from berth.portal.session import (
    REFRESH_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    PortalUser,
    clear_cookie,
    scheme,
    set_cookie,
    set_session,
)

SIGN_IN_SECONDS = 600
SCOPE = f"openid profile {MANAGEMENT}/.default"


def _safe_next(value: str) -> str:
    """Only a path inside the portal: never another site (an open redirect)."""
    if value.startswith("/portal/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/portal/"


class SignIn:
    def __init__(
        self, portal: Portal, authorization: AuthorizationEndpoints, tokens: DirectoryTokens
    ) -> None:
        self.portal = portal
        self.authorization = authorization
        self.tokens = tokens

    def secure(self, request: Request) -> bool:
        return scheme(request, self.portal.services.trusted_proxies) == "https"

    def redirect_uri(self, request: Request) -> str:
        origin = (
            f"{scheme(request, self.portal.services.trusted_proxies)}://{request.headers.get('host', '')}"
        )
        return f"{origin}{PORTAL_REDIRECT_PATH}"

    async def start(self, request: Request) -> Response:
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        query = urlencode(
            {
                "client_id": PORTAL_CLIENT_ID,
                "response_type": "code",
                "redirect_uri": self.redirect_uri(request),
                "scope": SCOPE,
                "state": state,
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        tenant = self.tokens.tenant_id
        response = RedirectResponse(f"/{tenant}/oauth2/v2.0/authorize?{query}", status_code=303)
        remembered = json.dumps(
            {"state": state, "verifier": verifier, "next": _safe_next(request.query_params.get("next", ""))}
        )
        set_cookie(response, self.secure(request), SIGN_IN_COOKIE, remembered, SIGN_IN_SECONDS)
        return response

    async def callback(self, request: Request) -> Response:
        try:
            remembered = json.loads(request.cookies.get(SIGN_IN_COOKIE, ""))
            state, verifier, after = (
                str(remembered["state"]),
                str(remembered["verifier"]),
                str(remembered["next"]),
            )
        except (ValueError, KeyError, TypeError):
            return self._failed(request, "The sign-in was not started here, or took too long. Sign in again.")
        query = request.query_params
        if not secrets.compare_digest(query.get("state", ""), state):
            return self._failed(
                request, "The sign-in answer does not match the sign-in this browser started."
            )
        if "error" in query:
            return self._failed(
                request,
                f"The directory refused the sign-in: {query.get('error_description') or query['error']}",
            )
        form = {
            "code": query.get("code", ""),
            "client_id": PORTAL_CLIENT_ID,
            "redirect_uri": self.redirect_uri(request),
            "code_verifier": verifier,
        }
        identity = await self.authorization.redeem(form)
        if isinstance(identity, SignInFailure):
            return self._failed(request, identity.description)
        if isinstance(identity, Response):
            return self._failed(request, "The sign-in code was refused. Sign in again.")
        token, _ = self.tokens.issue_access_token(identity, MANAGEMENT, PORTAL_CLIENT_ID)
        refresh = self.tokens.issue_refresh_token(identity, PORTAL_CLIENT_ID)
        response = RedirectResponse(_safe_next(after), status_code=303)
        clear_cookie(response, self.secure(request), SIGN_IN_COOKIE)
        set_session(response, self.secure(request), token, refresh)
        return response

    def _failed(self, request: Request, message: str) -> Response:
        response = self.portal.render(request, "signed_out.html", None, status=400, message=message)
        clear_cookie(response, self.secure(request), SIGN_IN_COOKIE)
        return response

    async def sign_out(self, request: Request, user: PortalUser) -> Response:
        response = self.portal.render(request, "signed_out.html", None, message="You are signed out.")
        clear_cookie(response, self.secure(request), SESSION_COOKIE)
        clear_cookie(response, self.secure(request), REFRESH_COOKIE)
        return response
