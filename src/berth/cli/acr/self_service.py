"""Troubleshooting for whoever holds only docker and a credential, through the registry plane's
``/acr/v1/_diagnostics/`` (no berth sign-in, no role on the registry's resource needed):

- with the credentials (``--username/--password``): their own login events and what they may do;
- with a rejected request's correlation id alone: why it was rejected, as far as that may be told
  (an unknown user name and a wrong secret stay one answer; docs/troubleshooting.md).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from berth.cli import context
from berth.cli.acr.common import Addressed
from berth.cli.client.http import new_client
from berth.events.columns import from_columns

BASE = "/acr/v1/_diagnostics"


@dataclass
class Plane:
    """A registry's login server as the user addressed it, and a client to reach it."""

    client: httpx.Client
    scheme: str
    login_server: str
    # No scheme was given for a loopback address: as docker does there, try HTTPS, then HTTP.
    may_fall_back_to_http: bool = False

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.login_server}{BASE}/{path}"

    def get(self, path: str, **options: Any) -> httpx.Response:
        try:
            return self.client.get(self.url(path), **options)
        except httpx.TransportError:
            if not (self.may_fall_back_to_http and self.scheme == "https"):
                raise
        self.scheme, self.may_fall_back_to_http = "http", False
        return self.client.get(self.url(path), **options)


def _loopback(login_server: str) -> bool:
    host = login_server.rsplit(":", 1)[0] if login_server.count(":") == 1 else login_server
    host = host.strip("[]").split("]:")[0]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plane_for(target: Addressed, known_login_server: str | None = None) -> Plane | None:
    """The login server the user addressed (``-n`` as a login server or URL), else the one the
    service knows, else ``<name>.<BERTH_SERVER's host>``; None when nothing says where it is."""
    ctx = context.current()
    signed_in = ctx.has_session()
    server = os.environ.get("BERTH_SERVER", "").rstrip("/")
    default_scheme = ctx.scheme if signed_in else (server.split("://", 1)[0] if server else "https")
    client = ctx.http if signed_in else new_client()
    if target.login_server:
        guess = target.scheme is None and not signed_in and _loopback(target.login_server)
        return Plane(client, target.scheme or default_scheme, target.login_server, guess)
    if known_login_server:
        return Plane(client, default_scheme, known_login_server)
    host = ctx.service_host if signed_in else server.split("://", 1)[-1] if server else ""
    if not host:
        return None
    return Plane(client, default_scheme, f"{target.name.lower()}.{host}")


def _basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def identity(plane: Plane, username: str, password: str) -> dict[str, Any] | None:
    """Who the credentials are and what they may do; None when the registry rejects them."""
    try:
        response = plane.get("identity", headers=_basic(username, password))
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    document: dict[str, Any] = response.json()
    return document


def own_events(
    plane: Plane, username: str, password: str, correlation_id: str | None, since_seconds: float
) -> tuple[list[dict[str, Any]], str | None]:
    """The failed login events of the credentials' own identity (stored field names), or an error."""
    params = {"correlationId": correlation_id} if correlation_id else {"since": str(int(since_seconds))}
    try:
        response = plane.get("events", params=params, headers=_basic(username, password))
    except httpx.HTTPError as exc:
        return [], f"the registry could not be reached: {exc}"
    if response.status_code != 200:
        return [], f"the registry refused the credentials of '{username}' (status {response.status_code})"
    events = [from_columns(row) for row in response.json().get("events") or []]
    return [e for e in events if e.get("result_type") == "Failed"], None


def rejected(plane: Plane, correlation_id: str, wait: float = 3.0) -> dict[str, Any] | None:
    """What the registry tells the holder of a rejected request's correlation id, as an event
    (stored field names) for :func:`berth.troubleshoot.explain.explain`; None when unknown."""
    deadline = time.monotonic() + wait
    while True:
        try:
            response = plane.get(f"requests/{correlation_id}")
        except httpx.HTTPError:
            return None
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    if response.status_code != 200:
        return None
    told: dict[str, Any] = response.json()
    return {
        "result_type": "Failed",
        "reason": told.get("reason"),
        "identity": told.get("identity") or "",
        "identity_kind": told.get("identityKind") or "unknown",
        "caller_ip": told.get("clientIp") or "",
        "detail": told.get("detail") or "",
        "requested_scopes": told.get("requestedScopes") or "",
        "granted_scopes": told.get("grantedScopes") or "",
        "correlation_id": told.get("correlationId") or correlation_id,
        "time": told.get("time"),
        "result_description": told.get("status"),
        "operation": told.get("operation") or "request",
        "repository": told.get("repository") or "",
    }
