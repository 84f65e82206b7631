"""HTTP plumbing shared by every client: TLS trust, one httpx client, errors as one line.

TLS: ``--ca-cert`` (kept in the session) wins, then the standard ``REQUESTS_CA_BUNDLE`` and
``SSL_CERT_FILE`` variables, then the system store.

Error bodies are read in every shape berth's services answer with: ARM and Graph
(``{"error": {"code", "message"}}``), the directory (``{"error", "error_description"}``) and
the registry (``{"errors": [{"code", "message"}]}``).
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import httpx

from berth import __version__
from berth.cli.framework import CliError, debug

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ApiError(CliError):
    """An HTTP error answer; ``status`` and ``code`` let callers react to specific ones."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message, exit_code=3 if status == 404 else 1)
        self.status = status
        self.code = code


def ca_bundle(ca_cert: str | None = None) -> str | None:
    return ca_cert or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None


def tls_verify(ca_cert: str | None = None) -> ssl.SSLContext | bool:
    path = ca_bundle(ca_cert)
    if not path:
        return True
    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise CliError(f"Cannot use the CA certificate file '{path}': {exc}") from None


def _log_response(response: httpx.Response) -> None:
    request = response.request
    debug(f"{request.method} {request.url} -> {response.status_code}")


def new_client(ca_cert: str | None = None) -> httpx.Client:
    return httpx.Client(
        verify=tls_verify(ca_cert),
        timeout=TIMEOUT,
        headers={"User-Agent": f"berth-cli/{__version__}"},
        event_hooks={"response": [_log_response]},
    )


def _clean(description: str) -> str:
    """The directory's ``error_description`` without its trailing trace id."""
    return description.split(" Trace ID:", 1)[0].strip()


def error_message(response: httpx.Response) -> tuple[str, str | None]:
    """(one-line message, error code) read from any of berth's error body shapes."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    code: str | None = None
    message: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            if code and message:
                message = f"({code}) {message}"
        elif isinstance(error, str):
            code = error
            message = _clean(str(body.get("error_description") or error))
        errors = body.get("errors")
        if message is None and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code, message = errors[0].get("code"), errors[0].get("message")
    if not message:
        text = response.text.strip()
        message = text[:200] if text else f"{response.status_code} {response.reason_phrase}"
    return " ".join(str(message).split()), code


def raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    message, code = error_message(response)
    raise ApiError(message, response.status_code, code)


def connection_error(url: str, exc: httpx.TransportError) -> CliError:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in reason:
        return CliError(
            f"The TLS certificate of {url} is not trusted ({reason}). Pass the CA with --ca-cert, or set "
            "REQUESTS_CA_BUNDLE."
        )
    return CliError(f"Could not connect to {url}: {reason}")


def send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; a transport failure becomes a :class:`CliError` naming the URL."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise connection_error(url, exc) from None
