"""The authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636), for berth's registered clients.

1. A client sends the browser to ``GET /<tenant>/oauth2/v2.0/authorize`` with ``client_id``,
   ``redirect_uri``, ``response_type=code``, ``state`` and an S256 ``code_challenge``;
2. the directory shows its sign-in page; ``POST`` there with the user name and password signs
   the user in and redirects to ``redirect_uri?code=...&state=...``;
3. the client redeems the code at the token endpoint (``grant_type=authorization_code``) with the
   same ``redirect_uri`` and the ``code_verifier`` whose SHA-256 is the challenge.

Only registered clients may ask (the portal is one; its redirect URI must be on the host the
browser addressed), so a code is never sent to a stranger's address. Pending sign-ins and codes
are kept in the database (:mod:`berth.directory.authorization_codes`), so each step may reach
another worker or replica. ``plain`` PKCE is refused: S256 only.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from berth.access.model import AuthOutcome, Identity, IdentityKind
from berth.directory.authorization_codes import CHALLENGE, AuthorizationCodes, CodeRejected
from berth.directory.service import Directory, SignInFailure
from berth.directory.wire import oauth_error, report_sign_in
from berth.metadata.identities import USER, IdentityRecord
from berth.registry import clients
from berth.services import Services

AUTHORIZATION_CODE_GRANT = "authorization_code"
PORTAL_CLIENT_ID = "berth-portal"
PORTAL_REDIRECT_PATH = "/portal/auth/callback"
# client id → the path its redirect URI must have (on the host the browser addressed)
REGISTERED_CLIENTS = {PORTAL_CLIENT_ID: PORTAL_REDIRECT_PATH}
_MAX_FORM = 16 * 1024


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in to berth</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:26em;margin:3em auto;padding:0 1em;color:#1b1b1b}}
label{{display:block;margin:.8em 0}}input{{display:block;width:100%;padding:.5em;box-sizing:border-box;
margin-top:.3em}}button{{padding:.6em 1.4em;background:#0b5cad;color:#fff;border:0;border-radius:3px}}
.msg{{padding:.6em;background:#fdecea;color:#611a15}}</style></head>
<body><main><h1>Sign in to berth</h1><p>{client} asks you to sign in.</p>{message}
<form method="post" action="{action}">
<input type="hidden" name="request" value="{request_id}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p></form></main></body></html>
"""


def _page(action: str, request_id: str, client: str, message: str = "", status: int = 200) -> HTMLResponse:
    body = _PAGE.format(
        action=html.escape(action, quote=True),
        request_id=html.escape(request_id, quote=True),
        client=html.escape(client),
        message=f'<p class="msg" role="alert">{html.escape(message)}</p>' if message else "",
    )
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
            ),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        },
    )


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head>'
        f"<body><main><h1>Sign-in error</h1><p>{html.escape(message)}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


class AuthorizationEndpoints:
    """``/<tenant>/oauth2/v2.0/authorize`` (page and sign-in) and the code's redemption."""

    def __init__(self, services: Services, directory: Directory) -> None:
        self.services = services
        self.directory = directory
        self.codes = AuthorizationCodes(services.db)

    @staticmethod
    def redirect_allowed(client_id: str, redirect_uri: str, host: str) -> bool:
        """A registered client's redirect URI, on the host the browser addressed."""
        path = REGISTERED_CLIENTS.get(client_id)
        parts = urlsplit(redirect_uri)
        return (
            path is not None
            and parts.scheme in ("http", "https")
            and parts.netloc.lower() == host.lower()
            and parts.path == path
            and not parts.query
            and not parts.fragment
        )

    async def page(self, request: Request) -> Response:
        query = request.query_params
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if not self.redirect_allowed(client_id, redirect_uri, request.headers.get("host", "")):
            return _error_page(
                f"AADSTS700016: the application '{client_id[:80]}' with redirect URI "
                f"'{redirect_uri[:200]}' is not registered with this directory."
            )
        if query.get("response_type") != "code":
            return _redirect_error(redirect_uri, query.get("state", ""), "unsupported_response_type")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not CHALLENGE.match(challenge):
            return _redirect_error(
                redirect_uri, query.get("state", ""), "invalid_request", "PKCE with S256 is required."
            )
        entry = await self.codes.start(
            client_id, redirect_uri, query.get("state", "")[:512], query.get("scope", "")[:512], challenge
        )
        return _page(request.url.path, entry.id, client_id)

    async def sign_in(self, request: Request) -> Response:
        form = await _form(request)
        entry = await self.codes.pending(form.get("request", ""))
        if entry is None:
            return _error_page("This sign-in has expired. Go back to the application and start again.")
        username = form.get("username", "")[:256]
        client_ip = clients.client_ip(request.scope, self.services.trusted_proxies)
        limits = self.services.auth.limits
        wait = limits.retry_after(client_ip, username)
        if wait is not None:
            return _page(
                request.url.path,
                entry.id,
                entry.client_id,
                f"Too many failed sign-ins; retry after {wait}s.",
                429,
            )
        result = await self.directory.sign_in_user(username, form.get("password", ""))
        if isinstance(result, SignInFailure):
            limits.record_failure(client_ip, username)
            outcome = AuthOutcome(
                "directory", result.identity, result.reason, result.detail, status=result.status
            )
            report_sign_in(self.services, request, client_ip, outcome)
            return _page(
                request.url.path, entry.id, entry.client_id, "The user name or password is not right.", 400
            )
        if result.kind != USER:
            return _page(request.url.path, entry.id, entry.client_id, "Only users sign in here.", 400)
        issued = await self.codes.issue(entry.id, result.id)
        if issued is None:
            return _error_page("This sign-in has expired. Go back to the application and start again.")
        identity = Identity(IdentityKind.USER, result.name, result.id)
        report_sign_in(self.services, request, client_ip, AuthOutcome("directory", identity))
        signed, code = issued
        target = f"{signed.redirect_uri}?{urlencode({'code': code, 'state': signed.state})}"
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})

    async def redeem(self, form: dict[str, str]) -> IdentityRecord | SignInFailure | Response:
        """The user a code was issued to (still enabled), or the OAuth error to answer."""
        try:
            issued = await self.codes.redeem(
                form.get("code", ""),
                form.get("client_id", ""),
                form.get("redirect_uri", ""),
                form.get("code_verifier", ""),
            )
        except CodeRejected as exc:
            return oauth_error("invalid_grant", exc.code, exc.description, status=400)
        if not form.get("scope"):
            form["scope"] = issued.scope
        return await self.directory.still_valid(issued.object_id, issued.issued_at)


def _redirect_error(redirect_uri: str, state: str, error: str, description: str = "") -> Response:
    query = {"error": error, "state": state}
    if description:
        query["error_description"] = description
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=303)
