"""Who is signed in to the portal, and whether a change request really comes from its pages.

Two cookies make a session: ``berth_portal`` holds the directory's management access token (an
hour), ``berth_portal_refresh`` a directory refresh token for the portal's client, with which
an expired access token is renewed for up to :data:`SESSION_SECONDS` after the sign-in. Each
request resolves the access token with :meth:`ManagementAuth.caller`, as the management API
resolves its ``Authorization`` header, so a disabled or deleted user is out at once (a renewal
checks the user too) and the permissions are the management API's. The cookies are
``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS and scoped to ``/portal``.

CSRF: every change is a POST carrying a token derived from the session's refresh cookie (a keyed
hash a third-party page cannot compute, since it cannot read the cookie; stable across renewals),
and its ``Origin``, when sent, must be this host.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from berth.access.permissions import from_roles
from berth.directory.tokens import ACCESS_TOKEN_SECONDS
from berth.management.authz import ASSIGN, READ, WRITE, Caller
from berth.metadata.registries import RegistryRecord
from berth.registry import clients
from berth.registry.clients import Network
from berth.tenancy import Tenancy

SESSION_COOKIE = "berth_portal"
REFRESH_COOKIE = "berth_portal_refresh"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
SIGN_IN_COOKIE = "berth_portal_signin"
COOKIE_PATH = "/portal"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def scheme(request: Request, proxies: tuple[Network, ...]) -> str:
    """``https`` or ``http`` as the browser sees it (``X-Forwarded-Proto`` from trusted proxies)."""
    return clients.scheme(request.scope, proxies)


def set_cookie(response: Response, secure: bool, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_cookie(response: Response, secure: bool, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure)


def set_session(
    response: Response, secure: bool, access_token: str, refresh_token: str | None = None
) -> None:
    set_cookie(response, secure, SESSION_COOKIE, access_token, ACCESS_TOKEN_SECONDS)
    if refresh_token is not None:
        set_cookie(response, secure, REFRESH_COOKIE, refresh_token, SESSION_SECONDS)


def csrf_token(csrf_key: str) -> str:
    return hmac.new(b"berth-portal-csrf", csrf_key.encode(), hashlib.sha256).hexdigest()


def same_origin(request: Request) -> bool:
    """No ``Origin`` (old browsers, same-origin GET) or one naming the host this request came to."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


@dataclass(frozen=True)
class PortalUser:
    """The signed-in caller with what the pages need to ask of them."""

    caller: Caller
    csrf_key: str  # the session's refresh cookie
    tenancy: Tenancy

    @property
    def name(self) -> str:
        return self.caller.identity.name

    @property
    def csrf(self) -> str:
        return csrf_token(self.csrf_key)

    def csrf_ok(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self.csrf.encode())

    def registry_id(self, record: RegistryRecord) -> str:
        return self.tenancy.registry_id(record)

    def can_read(self, record: RegistryRecord) -> bool:
        return self.caller.can(READ, self.registry_id(record))

    def can_write(self, record: RegistryRecord) -> bool:
        return self.caller.can(WRITE, self.registry_id(record))

    def can_assign(self, record: RegistryRecord) -> bool:
        return self.caller.can(ASSIGN, self.registry_id(record))

    def data_actions(self, record: RegistryRecord) -> frozenset[str]:
        """The registry's data-plane actions the caller's roles grant (AcrPull, Reader, ...)."""
        return from_roles(list(self.caller.assignments), self.registry_id(record)).wide

    def can_see(self, record: RegistryRecord) -> bool:
        return self.can_read(record) or "metadata_read" in self.data_actions(record)

    def can_create_in(self, resource_group: str) -> bool:
        return self.caller.can(WRITE, self.tenancy.resource_group_scope(resource_group))

    def can_create_anywhere(self) -> bool:
        return self.caller.can(WRITE, self.tenancy.subscription_scope)
