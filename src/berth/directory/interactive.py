"""The directory's interactive sign-ins: the device-code flow with its page, and user realms.

- ``POST /<tenant>/oauth2/v2.0/devicecode``: RFC 8628's device authorization endpoint;
- ``GET /devicelogin``: the page where a user types the code, their name and password
  (``POST /devicelogin`` signs them in and approves the code);
- ``GET /common/userrealm/<upn>``: MSAL asks this before a password sign-in; every berth user
  is a "Managed" (cloud) account, so MSAL goes on to the password grant.

The token endpoint redeems approved device codes through :meth:`DeviceEndpoints.redeem`.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from berth.access.model import AuthOutcome, Identity, IdentityKind
from berth.directory.device_code import (
    LIFETIME_SECONDS,
    POLL_INTERVAL_SECONDS,
    DeviceCodes,
    DevicePending,
)
from berth.directory.service import Directory, SignInFailure
from berth.directory.wire import oauth_error, report_sign_in
from berth.metadata.identities import USER, IdentityRecord
from berth.registry import clients
from berth.services import Services

PAGE_PATH = "/devicelogin"
_MAX_FORM = 16 * 1024
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>berth sign-in</title>
<style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;margin:.8em 0}}
input{{width:100%;padding:.4em}}.msg{{padding:.6em;background:#eef}}</style></head>
<body><h1>Sign in to berth</h1>{message}
<form method="post" action="{action}">
<label>Code <input name="user_code" value="{code}" autocomplete="off" required></label>
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>
"""


class DeviceEndpoints:
    def __init__(self, services: Services, directory: Directory, tenant_id: str) -> None:
        self.services = services
        self.directory = directory
        self.tenant_id = tenant_id
        self.codes = DeviceCodes(services.db)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/{tenant}/oauth2/v2.0/devicecode", self.device_authorization, methods=["POST"]),
            Route(PAGE_PATH, self.page, methods=["GET"]),
            Route(PAGE_PATH, self.sign_in, methods=["POST"]),
            Route("/common/userrealm/{upn:path}", self.user_realm, methods=["GET"]),
        ]

    def verification_uri(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}{PAGE_PATH}"

    async def device_authorization(self, request: Request) -> Response:
        form = await _form(request)
        tenant = request.path_params["tenant"]
        if tenant not in ("organizations", "common", self.tenant_id):
            return oauth_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found.", status=400)
        try:
            entry = await self.codes.start(form.get("client_id", ""), form.get("scope", ""))
        except DevicePending as exc:
            return oauth_error(exc.error, exc.code, exc.description, status=429)
        uri = self.verification_uri(request)
        return JSONResponse(
            {
                "device_code": entry.device_code,
                "user_code": entry.user_code,
                "verification_uri": uri,
                "expires_in": LIFETIME_SECONDS,
                "interval": POLL_INTERVAL_SECONDS,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                f"{entry.user_code} to authenticate.",
            },
            headers={"Cache-Control": "no-store"},
        )

    async def redeem(self, form: dict[str, str]) -> IdentityRecord | SignInFailure | Response:
        """The user who approved the form's device code, or the OAuth error to answer. A poll that
        names no ``scope`` gets the one the device authorization asked for (set in ``form``)."""
        try:
            entry = await self.codes.redeem(
                form.get("device_code") or form.get("code", ""), form.get("client_id", "")
            )
        except DevicePending as exc:
            return oauth_error(exc.error, exc.code, exc.description, status=400)
        assert entry.approved_by is not None
        if not form.get("scope"):
            form["scope"] = entry.scope
        return await self.directory.still_valid(entry.approved_by, entry.created_at)

    async def page(self, request: Request) -> Response:
        code = request.query_params.get("code", "")[:32]
        return _page(code, "Enter the code your device shows, then your user name and password.")

    async def sign_in(self, request: Request) -> Response:
        form = await _form(request)
        code, username = form.get("user_code", "")[:32], form.get("username", "")
        if await self.codes.pending(code) is None:
            return _page("", "That code is not valid or has expired. Start again on your device.", 400)
        client_ip = clients.client_ip(request.scope, self.services.trusted_proxies)
        limits = self.services.auth.limits
        wait = limits.retry_after(client_ip, username)
        if wait is not None:
            return _page(code, f"Too many failed sign-ins; retry after {wait} seconds.", 429)
        result = await self.directory.sign_in_user(username, form.get("password", ""))
        if isinstance(result, SignInFailure):
            limits.record_failure(client_ip, username)
            self._report(
                request,
                client_ip,
                AuthOutcome("directory", result.identity, result.reason, result.detail, status=result.status),
            )
            return _page(code, "The user name or password is not right.", 400)
        if result.kind != USER or not await self.codes.approve(code, result.id):
            return _page("", "That code is not valid or has expired. Start again on your device.", 400)
        self._report(
            request, client_ip, AuthOutcome("directory", Identity(IdentityKind.USER, result.name, result.id))
        )
        return _page("", f"Signed in as {result.name}. You can close this page and return to your device.")

    async def user_realm(self, request: Request) -> Response:
        upn = request.path_params["upn"]
        domain = upn.rpartition("@")[2] or self.services.settings.domain
        return JSONResponse(
            {
                "ver": "1.0",
                "account_type": "Managed",
                "domain_name": domain,
                "cloud_instance_name": "berth",
                "cloud_audience_urn": "urn:federation:MicrosoftOnline",
            }
        )

    def _report(self, request: Request, client_ip: str, outcome: AuthOutcome) -> None:
        report_sign_in(self.services, request, client_ip, outcome)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: " ".join(values) for key, values in parsed.items()}


def _page(code: str, message: str, status: int = 200) -> HTMLResponse:
    body = _PAGE.format(
        message=f'<p class="msg">{html.escape(message)}</p>',
        action=PAGE_PATH,
        code=html.escape(code, quote=True),
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
