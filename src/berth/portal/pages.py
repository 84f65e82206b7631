"""What every portal page shares: the signed-in user, templates, CSRF checks and error pages.

Handlers are thin: :meth:`Portal.page` wraps a GET handler (sign-in required), and
:meth:`Portal.action` a POST one (sign-in and a valid CSRF token required). Both turn the domain
layer's refusals (:class:`ManagementError`, :class:`WireError`) into an HTML page with the same
status the management API or registry would answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from berth.errors import WireError
from berth.management.errors import ManagementError
from berth.metadata.registries import RegistryRecord
from berth.portal import charts
from berth.portal.assets import Assets
from berth.portal.session import CSRF_FIELD, CSRF_HEADER, PortalUser, same_origin, scheme, set_session
from berth.portal.sessions import Sessions
from berth.services import Services

log = logging.getLogger("berth.portal")

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM = 64 * 1024
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[Request, PortalUser], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Form(dict[str, list[str]]):
    """A url-encoded form: ``get`` gives the first value, ``all`` every value of a field."""

    def one(self, key: str, default: str = "") -> str:
        values = self.get(key)
        return values[0] if values else default

    def all(self, key: str) -> list[str]:
        return list(self.get(key, []))


async def read_form(request: Request) -> Form:
    body = await request.body()
    if len(body) > MAX_FORM:
        raise ManagementError("RequestTooLarge", "The form is too large.", 413)
    form = Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in form.items()):
        raise _NUL
    return form


# NUL characters cannot name anything (and PostgreSQL refuses them in text): refused up front,
# as the management API does.
_NUL = ManagementError("InvalidParameter", "The request must not contain NUL characters.", 400)


def size(value: int | float | None) -> str:
    """Bytes for people, in binary units as ACR shows quotas: 734 B, 1.2 MiB, 500.0 GiB."""
    amount = float(value or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def when(epoch: float | None) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Portal:
    def __init__(self, services: Services, assets: Assets, sessions: Sessions) -> None:
        self.services = services
        self.assets = assets
        self.sessions = sessions
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["asset"] = assets.url
        self.env.filters["size"] = size
        self.env.filters["when"] = when
        self.env.filters["svg"] = charts.svg
        self.env.filters["q"] = lambda value: quote(str(value), safe="")

    # --- rendering ----------------------------------------------------------------------

    def render(
        self, request: Request, template: str, user: PortalUser | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        body = self.env.get_template(template).render(
            user=user, request=request, path=request.url.path, **context
        )
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def error(
        self, request: Request, user: PortalUser | None, status: int, code: str, message: str
    ) -> HTMLResponse:
        return self.render(request, "error.html", user, status=status, code=code, message=message)

    # --- who is calling ------------------------------------------------------------------

    async def user(self, request: Request) -> PortalUser | None:
        return (await self.sessions.resolve(request))[0]

    def secure(self, request: Request) -> bool:
        return scheme(request, self.services.trusted_proxies) == "https"

    def _sign_in_first(self, request: Request) -> Response:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/portal/signin?next={quote(back, safe='')}", status_code=303)

    def page(self, handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            user, renewed = await self.sessions.resolve(request)
            if user is None:
                return self._sign_in_first(request)
            return self._renewed(request, await self._run(handler, request, user), renewed)

        return endpoint

    def _renewed(self, request: Request, response: Response, renewed: str | None) -> Response:
        if renewed is not None:
            set_session(response, self.secure(request), renewed)
        return response

    def action(self, handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            user, renewed = await self.sessions.resolve(request)
            if user is None:
                return self.error(request, None, 401, "NotSignedIn", "Sign in to the portal first.")
            presented = request.headers.get(CSRF_HEADER, "")
            if not presented:
                try:
                    presented = (await read_form(request)).one(CSRF_FIELD)
                except ManagementError as exc:
                    return self.error(request, user, exc.status, exc.code, exc.message)
            if not same_origin(request) or not user.csrf_ok(presented):
                return self.error(
                    request,
                    user,
                    403,
                    "InvalidCsrfToken",
                    "The form has expired or did not come from this portal.",
                )
            return self._renewed(request, await self._run(handler, request, user), renewed)

        return endpoint

    async def _run(self, handler: Handler, request: Request, user: PortalUser) -> Response:
        try:
            if "\x00" in request.url.path or any(
                "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
            ):
                raise _NUL
            return await handler(request, user)
        except ManagementError as exc:
            return self.error(request, user, exc.status, exc.code, exc.message)
        except WireError as exc:
            return self.error(request, user, exc.http_status, exc.error.code, exc.text)

    # --- lookups -------------------------------------------------------------------------

    async def registry(self, user: PortalUser, name: str) -> RegistryRecord:
        """A registry the user may see; the same 404 whether it is absent or hidden from them."""
        try:
            record = await self.services.management.registries.get(name)
        except ManagementError:
            record = None
        if record is None or not user.can_see(record):
            raise ManagementError(
                "ResourceNotFound",
                f"The registry '{name}' could not be found, or you have no access to it.",
                404,
            )
        return record


def now() -> float:
    return time.time()
