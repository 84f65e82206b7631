"""A registry's data plane as the az CLI drives it: the ``/v2/`` challenge, ``/oauth2/exchange``,
``/oauth2/token``, and the ``/acr/v1/`` and ``/v2/`` calls behind ``berth acr repository``.

``https`` unless the service itself is plain ``http`` (a local install); the az CLI always
uses https. Token endpoints come from the challenge's ``realm`` host, like az's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from berth.cli.client import diagnostics
from berth.cli.client.challenge import Challenge, parse_challenge
from berth.cli.client.diagnostics import DiagnosticError
from berth.cli.client.http import error_message, send
from berth.cli.framework import CliError

NULL_GUID = "00000000-0000-0000-0000-000000000000"
PAGE_SIZE = 100
ORDERBY = {"time_asc": "timeasc", "time_desc": "timedesc"}


class RegistryAuthError(CliError):
    """A step of the token flow failed; ``error`` is the catalogue entry, ``status`` the HTTP one."""

    def __init__(self, error: DiagnosticError, status: int | None = None) -> None:
        super().__init__(error.line())
        self.error = error
        self.status = status


class RegistryRequestError(CliError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, exit_code=3 if status == 404 else 1)
        self.status = status


class RegistryEndpoint:
    def __init__(self, client: httpx.Client, login_server: str, scheme: str = "https") -> None:
        self.client = client
        self.login_server = login_server.rstrip("/")
        self.scheme = scheme
        self.base = f"{scheme}://{self.login_server}"

    # --- the token flow -----------------------------------------------------------------

    def ping(self) -> httpx.Response:
        """``GET /v2/``; transport errors propagate (the caller words them)."""
        return self.client.get(f"{self.base}/v2/")

    def challenge(
        self, for_directory_token: bool = True, response: httpx.Response | None = None
    ) -> Challenge:
        """The challenge of ``GET /v2/``: ``response`` when the caller has it already, else a new ping."""
        if response is None:
            try:
                response = self.ping()
            except httpx.TransportError:
                raise RegistryAuthError(
                    diagnostics.CONNECTIVITY_CHALLENGE_ERROR.format(self.login_server)
                ) from None
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if response.status_code != 401 or challenge is None:
            raise RegistryAuthError(
                diagnostics.CONNECTIVITY_CHALLENGE_ERROR.format(self.login_server), response.status_code
            )
        if not challenge.usable:
            error = (
                diagnostics.CONNECTIVITY_AAD_LOGIN_ERROR
                if for_directory_token
                else diagnostics.CONNECTIVITY_WWW_AUTHENTICATE_ERROR
            )
            raise RegistryAuthError(error.format(self.login_server), response.status_code)
        return challenge

    def _post_form(self, url: str, form: dict[str, str], error: DiagnosticError) -> dict[str, Any]:
        try:
            response = self.client.post(url, data=form)
        except httpx.TransportError as exc:
            raise RegistryAuthError(error.format(self.login_server, type(exc).__name__)) from None
        if response.status_code == 429:
            raise RegistryAuthError(
                diagnostics.CONNECTIVITY_TOOMANYREQUESTS_ERROR.format(self.login_server), 429
            )
        if response.status_code != 200:
            raise RegistryAuthError(
                error.format(self.login_server, response.status_code), response.status_code
            )
        return dict(response.json())

    def exchange(self, challenge: Challenge, directory_token: str, tenant: str | None) -> str:
        """A directory access token → an ACR refresh token (``POST /oauth2/exchange``)."""
        form = {"grant_type": "access_token", "service": challenge.service or self.login_server}
        if tenant:
            form["tenant"] = tenant
        form["access_token"] = directory_token
        body = self._post_form(
            challenge.endpoint("/oauth2/exchange"), form, diagnostics.CONNECTIVITY_REFRESH_TOKEN_ERROR
        )
        return str(body["refresh_token"])

    def token_from_refresh(self, challenge: Challenge, refresh_token: str, scope: str) -> str:
        form = {
            "grant_type": "refresh_token",
            "service": self.login_server,
            "scope": scope,
            "refresh_token": refresh_token,
        }
        body = self._post_form(
            challenge.endpoint("/oauth2/token"), form, diagnostics.CONNECTIVITY_ACCESS_TOKEN_ERROR
        )
        return str(body["access_token"])

    def token_from_password(self, challenge: Challenge, username: str, password: str, scope: str) -> str:
        form = {
            "service": challenge.service or self.login_server,
            "grant_type": "password",
            "username": username,
            "password": password,
            "scope": scope,
        }
        body = self._post_form(
            challenge.endpoint("/oauth2/token"), form, diagnostics.CONNECTIVITY_ACCESS_TOKEN_ERROR
        )
        return str(body["access_token"])

    # --- data calls ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        access_token: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One call with ``Bearer <access token>``; errors worded as az words them."""
        sent = {"Authorization": f"Bearer {access_token}", **(headers or {})}
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        response = send(self.client, method, f"{self.base}{path}", params=clean, json=json, headers=sent)
        if response.is_success:
            return response
        fallback = {
            401: "Authentication required.",
            404: "The requested data does not exist.",
            405: "This operation is not supported.",
            409: "Failed to request data due to a conflict.",
        }.get(response.status_code, f"Could not {method.lower()} the requested data.")
        message, _ = error_message(response)
        text = f"Error: {message}" if message and _has_body(response) else fallback
        if not text.endswith("."):
            text += "."
        correlation = response.headers.get("x-ms-correlation-request-id")
        if correlation:
            text += f" Correlation ID: {correlation}."
        raise RegistryRequestError(text, response.status_code)

    def get_json(self, path: str, access_token: str, result_index: str | None = None) -> Any:
        body = self.request("GET", path, access_token).json()
        return body.get(result_index) if result_index else body

    def paged(
        self,
        path: str,
        access_token: str,
        result_index: str,
        top: int | None = None,
        orderby: str | None = None,
    ) -> list[Any]:
        """Every item of a listing, following ``Link: <...>; rel="next"`` (az's paging)."""
        items: list[Any] = []
        params: dict[str, Any] = {"n": PAGE_SIZE, "orderby": ORDERBY[orderby] if orderby else None}
        remaining = top
        while True:
            if remaining is not None:
                params["n"] = min(PAGE_SIZE, remaining)
                remaining -= params["n"]
            response = self.request("GET", path, access_token, params=params)
            page = response.json().get(result_index) or []
            items.extend(page)
            if remaining is not None and remaining <= 0:
                break
            next_params = _next_link(response.headers.get("link"))
            if next_params is None:
                break
            params = next_params
        return items


def _has_body(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("errors"))


def _next_link(header: str | None) -> dict[str, Any] | None:
    if not header or "<" not in header or ">" not in header:
        return None
    target = header[header.index("<") + 1 : header.index(">")]
    return dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))


def repository_path(repository: str, *parts: str) -> str:
    """``/acr/v1/<repository, %2F-encoded>[/...]``."""
    tail = "".join(f"/{quote(p, safe='_')}" for p in parts)
    return f"/acr/v1/{quote(repository, safe='')}{tail}"
