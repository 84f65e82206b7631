"""Every failure of the management API as ARM renders it: ``{"error": {"code", "message"}}``.

- :class:`ManagementError` (raised by the domain layer and the authorization step) keeps its
  code and status.
- Request validation errors become ``400 InvalidRequestContent`` whose message names the bad
  field (``properties.adminUserEnabled``, path parameter ``registryName``, ...) and whose
  ``target`` is that field.
- Unknown paths and methods under the management API's prefixes (``/subscriptions``,
  ``/providers``, ``/v1.0``) answer ``404 NotFound`` / ``405 MethodNotAllowed`` in the same
  envelope; elsewhere on the service plane the caller's own handlers answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from berth.management.errors import ManagementError

MANAGEMENT_PREFIXES = ("/subscriptions", "/providers", "/v1.0")

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

_WHERE = {"path": "path parameter", "query": "query parameter", "header": "header"}
_FRIENDLY = {
    "registryName": "registry names may contain only alpha numeric characters and must be between 5 and "
    "50 characters",
    "resourceGroupName": "use up to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
    "tokenName": "token names are 5 to 50 letters, digits and hyphens",
    "scopeMapName": "scope map names are 5 to 50 letters, digits, hyphens and underscores",
}
_PATTERN_ERRORS = ("string_pattern_mismatch", "string_too_short", "string_too_long")


def arm_error(code: str, message: str, status: int, target: str | None = None) -> JSONResponse:
    return JSONResponse(ManagementError(code, message, status, target).body(), status_code=status)


def _field(loc: Sequence[int | str]) -> tuple[str, str]:
    """('properties.networkRuleSet.ipRules[0].value', 'body') from a pydantic location."""
    where, *parts = loc or ("body",)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name, str(where)


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    name, where = _field(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error", "invalid JSON")
        return f"The request content is not valid JSON: {reason}.", "body"
    if where == "body" and not name:
        if kind == "missing":
            return "The request content is missing: this operation needs a JSON body.", "body"
        return f"The request content is not valid: {error.get('msg', 'invalid')}.", "body"
    message = str(error.get("msg", "invalid value"))
    if kind in _PATTERN_ERRORS and name in _FRIENDLY:
        message = _FRIENDLY[name]
    prefix = _WHERE.get(where)
    label = f"{prefix} '{name}'" if prefix else f"'{name}'"
    return f"The request content was invalid: {label}: {message}.", name


async def _management_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ManagementError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    described = [_describe(dict(error)) for error in exc.errors()]
    if not described:
        return arm_error("InvalidRequestContent", "The request content was invalid.", 400)
    message = " ".join(text for text, _ in described[:5])
    if len(described) > 5:
        message += f" ({len(described) - 5} more problems.)"
    return arm_error("InvalidRequestContent", message, 400, described[0][1])


def install(app: FastAPI, not_found: Handler, method_not_allowed: Handler) -> None:
    """Register the handlers; ``not_found``/``method_not_allowed`` serve paths outside the API."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path
        in_api = path.startswith(MANAGEMENT_PREFIXES)
        if exc.status_code == 405:
            if not in_api:
                response = method_not_allowed(request, exc)
                return await response if isinstance(response, Awaitable) else response
            answer = arm_error(
                "MethodNotAllowed", f"The method {request.method} is not allowed on {path}.", 405
            )
            answer.headers.update(exc.headers or {})
            return answer
        if exc.status_code == 404 and not in_api:
            response = not_found(request, exc)
            return await response if isinstance(response, Awaitable) else response
        if exc.status_code == 404:
            return arm_error("NotFound", f"No management operation at {path}.", 404)
        return arm_error(
            "BadRequest" if exc.status_code < 500 else "InternalServerError", exc.detail, exc.status_code
        )

    app.add_exception_handler(ManagementError, _management_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, http_error)
