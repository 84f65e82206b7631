"""Signing in to berth's built-in directory and keeping directory access tokens fresh.

- :func:`discover` reads ``/<tenant or organizations>/v2.0/.well-known/openid-configuration``:
  the token endpoint (whose first path segment is the tenant id, as MSAL reads it) and the
  issuer (whose host is the service's domain and port, from which login servers are formed).
- :func:`sign_in_user` (``grant_type=password``) and :func:`sign_in_service_principal`
  (``client_credentials``) return the first token.
- :class:`Credential` hands out access tokens per audience from the session's cache,
  renewing them (refresh token or client secret) five minutes before they expire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from berth.cli.client import session as session_file
from berth.cli.client.http import ApiError, raise_for_status, send
from berth.cli.client.session import SERVICE_PRINCIPAL, CachedToken, Session
from berth.cli.framework import CliError

MANAGEMENT = "https://management.azure.com"
CONTAINER_REGISTRY = "https://containerregistry.azure.net"
# The Azure CLI's public client id: directory tokens then carry the appid ACR tokens show.
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
LOGIN_AGAIN = "Please run 'berth login' to setup account."


@dataclass(frozen=True)
class Discovery:
    tenant_id: str
    token_endpoint: str
    issuer: str

    @property
    def service_host(self) -> str:
        """``<domain>[:port]`` as the service advertises it (the issuer's host)."""
        return urlsplit(self.issuer).netloc


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_on: float
    refresh_token: str | None


def discover(client: httpx.Client, server: str, tenant: str | None = None) -> Discovery:
    url = f"{server}/{tenant or 'organizations'}/v2.0/.well-known/openid-configuration"
    response = send(client, "GET", url)
    if response.status_code == 404:
        raise CliError(f"{server} does not look like a berth service (no directory at {url}).")
    raise_for_status(response)
    try:
        document = response.json()
        token_endpoint = str(document["token_endpoint"])
        issuer = str(document["issuer"])
    except (ValueError, KeyError, TypeError):
        raise CliError(f"{url} did not answer with an OpenID configuration.") from None
    tenant_id = urlsplit(token_endpoint).path.strip("/").split("/")[0]
    return Discovery(tenant_id, token_endpoint, issuer)


def _token(client: httpx.Client, token_endpoint: str, form: dict[str, str]) -> TokenResponse:
    response = send(client, "POST", token_endpoint, data=form)
    raise_for_status(response)
    body: dict[str, Any] = response.json()
    return TokenResponse(
        access_token=str(body["access_token"]),
        expires_on=time.time() + float(body.get("expires_in", 3600)),
        refresh_token=body.get("refresh_token"),
    )


def scope_for(audience: str) -> str:
    return f"{audience}/.default"


def sign_in_user(
    client: httpx.Client, token_endpoint: str, username: str, password: str, audience: str = MANAGEMENT
) -> TokenResponse:
    form = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "username": username,
        "password": password,
        "scope": f"{scope_for(audience)} offline_access",
    }
    return _token(client, token_endpoint, form)


def sign_in_service_principal(
    client: httpx.Client, token_endpoint: str, app_id: str, secret: str, audience: str = MANAGEMENT
) -> TokenResponse:
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_secret": secret,
        "scope": scope_for(audience),
    }
    return _token(client, token_endpoint, form)


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def sign_in_with_federated_token(
    client: httpx.Client, token_endpoint: str, app_id: str, token: str, audience: str = MANAGEMENT
) -> TokenResponse:
    """``az login --service-principal --federated-token``: an external issuer's token as the
    client assertion, trusted through a federated identity credential."""
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
        "scope": scope_for(audience),
    }
    return _token(client, token_endpoint, form)


class Credential:
    """Directory access tokens for the signed-in identity, cached in the session file."""

    def __init__(self, session: Session, client: httpx.Client, save: bool = True) -> None:
        self.session = session
        self.client = client
        self._save = save

    def token(self, audience: str) -> str:
        cached = self.session.tokens.get(audience)
        if cached is not None and cached.fresh():
            return cached.access_token
        try:
            fresh = self._acquire(audience)
        except ApiError as exc:
            if exc.status in (400, 401):
                raise CliError(f"{exc.message} {LOGIN_AGAIN}") from None
            raise
        if fresh.refresh_token:
            self.session.refresh_token = fresh.refresh_token
        self.session.tokens[audience] = CachedToken(fresh.access_token, fresh.expires_on)
        if self._save:
            session_file.save(self.session)
        return fresh.access_token

    def _acquire(self, audience: str) -> TokenResponse:
        session = self.session
        if session.user_type == SERVICE_PRINCIPAL and session.federated_token:
            return sign_in_with_federated_token(
                self.client, session.token_endpoint, session.user_name, session.federated_token, audience
            )
        if session.user_type == SERVICE_PRINCIPAL:
            if not session.client_secret:
                raise CliError(f"The session holds no secret for {session.user_name}. {LOGIN_AGAIN}")
            return sign_in_service_principal(
                self.client, session.token_endpoint, session.user_name, session.client_secret, audience
            )
        if not session.refresh_token:
            raise CliError(f"The session of {session.user_name} has no refresh token. {LOGIN_AGAIN}")
        form = {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "refresh_token": session.refresh_token,
            "scope": f"{scope_for(audience)} offline_access",
        }
        return _token(self.client, session.token_endpoint, form)
