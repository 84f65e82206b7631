"""The authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636), for berth's registered clients.

1. A client sends the browser to ``GET /<tenant>/oauth2/v2.0/authorize`` with ``client_id``,
   ``redirect_uri``, ``response_type=code``, ``state`` and an S256 ``code_challenge``;
2. the directory shows its sign-in page; ``POST`` there with the user name and password signs
   the user in and redirects to ``redirect_uri?code=...&state=...``;
3. the client redeems the code at the token endpoint (``grant_type=authorization_code``) with the
   same ``redirect_uri`` and the ``code_verifier`` whose SHA-256 is the challenge.

Only registered clients may ask (the portal is one; its redirect URI must be on the host the
browser addressed), so a code is never sent to a stranger's address. Codes are random 256-bit
values kept in this process's memory for five minutes, good for one redemption, bound to the
client, the redirect URI and the challenge. ``plain`` PKCE is refused: S256 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from berth.access.model import AuthOutcome, Identity, IdentityKind
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
CODE_SECONDS = 300
SIGN_IN_SECONDS = 900
_MAX_PENDING = 10_000
_MAX_FORM = 16 * 1024
# RFC 7636 §4.1: 43 to 128 unreserved characters; an S256 challenge is 43 base64url characters.
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class SignInRequest:
    """A checked authorize request, waiting for the user to sign in on the directory's page."""

    id: str
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class IssuedCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    object_id: str
    issued_at: float
    expires_at: float


class CodeRejected(Exception):
    """Why a code cannot be redeemed: always ``invalid_grant`` with Entra ID's AADSTS code."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class AuthorizationCodes:
    """Pending sign-ins and issued codes of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, SignInRequest] = {}
        self._codes: dict[str, IssuedCode] = {}

    def _expire(self, now: float) -> None:
        for store in (self._requests, self._codes):
            for key in [k for k, v in store.items() if v.expires_at <= now]:
                del store[key]

    def start(
        self, client_id: str, redirect_uri: str, state: str, scope: str, challenge: str
    ) -> SignInRequest:
        now = time.time()
        entry = SignInRequest(
            secrets.token_urlsafe(32), client_id, redirect_uri, state, scope, challenge, now + SIGN_IN_SECONDS
        )
        with self._lock:
            self._expire(now)
            if len(self._requests) >= _MAX_PENDING:
                oldest = min(self._requests.values(), key=lambda r: r.expires_at)
                del self._requests[oldest.id]
            self._requests[entry.id] = entry
        return entry

    def pending(self, request_id: str) -> SignInRequest | None:
        with self._lock:
            self._expire(time.time())
            return self._requests.get(request_id)

    def issue(self, request_id: str, object_id: str) -> tuple[SignInRequest, str] | None:
        """The code for a signed-in user; the pending request is used up."""
        now = time.time()
        with self._lock:
            self._expire(now)
            entry = self._requests.pop(request_id, None)
            if entry is None:
                return None
            code = secrets.token_urlsafe(32)
            self._codes[code] = IssuedCode(
                entry.client_id,
                entry.redirect_uri,
                entry.code_challenge,
                entry.scope,
                object_id,
                now,
                now + CODE_SECONDS,
            )
        return entry, code

    def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> IssuedCode:
        """The code's grant, used up whatever the outcome (a failed attempt burns the code)."""
        with self._lock:
            self._expire(time.time())
            issued = self._codes.pop(code, None)
        if issued is None:
            raise CodeRejected(
                70008, "The provided authorization code is expired, already redeemed or not valid."
            )
        if issued.client_id != client_id:
            raise CodeRejected(70000, "The authorization code was issued to another client.")
        if issued.redirect_uri != redirect_uri:
            raise CodeRejected(
                50148, "The redirect_uri does not match the one the authorization code was issued for."
            )
        if not VERIFIER.match(verifier) or not hmac.compare_digest(s256(verifier), issued.code_challenge):
            raise CodeRejected(501481, "The code_verifier does not match the code_challenge.")
        return issued


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
        self.codes = AuthorizationCodes()

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
        entry = self.codes.start(
            client_id, redirect_uri, query.get("state", "")[:512], query.get("scope", "")[:512], challenge
        )
        return _page(request.url.path, entry.id, client_id)

    async def sign_in(self, request: Request) -> Response:
        form = await _form(request)
        entry = self.codes.pending(form.get("request", ""))
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
        issued = self.codes.issue(entry.id, result.id)
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
            issued = self.codes.redeem(
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
