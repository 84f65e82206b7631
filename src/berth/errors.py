"""The one registry of wire errors.

Every error berth sends to a client is registered here once, with its OCI/docker code, HTTP
status and default message. Handlers never build error JSON: they raise :class:`WireError`
(or return a denial that becomes one) and :func:`error_body` renders the envelope that docker,
ORAS and the Azure SDKs parse::

    {"errors": [{"code": "<CODE>", "message": "<text>", "detail": <any JSON>}]}

Hierarchy::

    Exception
     └── WireError            an error with a registered code, rendered as the envelope above
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class ErrorCode:
    """A registered wire error: the code clients match on, its status and default message."""

    code: str
    status: int
    message: str


_REGISTRY: dict[str, ErrorCode] = {}


def register(code: str, status: int, message: str) -> ErrorCode:
    if code in _REGISTRY:
        raise ValueError(f"error code {code} registered twice")
    entry = ErrorCode(code, status, message)
    _REGISTRY[code] = entry
    return entry


def registered_codes() -> list[ErrorCode]:
    """Every registered error, for documentation and tests."""
    return list(_REGISTRY.values())


# OCI distribution-spec and docker distribution codes.
UNKNOWN = register("UNKNOWN", 500, "unknown error")
UNSUPPORTED = register("UNSUPPORTED", 405, "The operation is unsupported.")
UNAUTHORIZED = register(
    "UNAUTHORIZED",
    401,
    "authentication required, visit https://aka.ms/acr/authorization for more information.",
)
DENIED = register("DENIED", 403, "requested access to the resource is denied")
UNAVAILABLE = register("UNAVAILABLE", 503, "service unavailable")
TOOMANYREQUESTS = register("TOOMANYREQUESTS", 429, "too many requests")
DIGEST_INVALID = register("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
SIZE_INVALID = register("SIZE_INVALID", 400, "provided length did not match content length")
RANGE_INVALID = register("RANGE_INVALID", 416, "invalid content range")
NAME_INVALID = register("NAME_INVALID", 400, "invalid repository name")
TAG_INVALID = register("TAG_INVALID", 400, "manifest tag did not match URI")
NAME_UNKNOWN = register("NAME_UNKNOWN", 404, "repository name not known to registry")
MANIFEST_UNKNOWN = register("MANIFEST_UNKNOWN", 404, "manifest unknown")
MANIFEST_INVALID = register("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_BLOB_UNKNOWN = register("MANIFEST_BLOB_UNKNOWN", 400, "blob unknown to registry")
BLOB_UNKNOWN = register("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_UNKNOWN = register("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
BLOB_UPLOAD_INVALID = register("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
PAGINATION_NUMBER_INVALID = register("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested")
# ACR's code for a tag the /acr/v1 metadata API cannot find.
TAG_UNKNOWN = register("TAG_UNKNOWN", 404, "the specified tag does not exist")
# Berth's own codes, for requests that are not about a repository.
REGISTRY_UNKNOWN = register("REGISTRY_UNKNOWN", 404, "registry does not exist")
NOT_FOUND = register("NOT_FOUND", 404, "the requested resource does not exist")
METHOD_NOT_ALLOWED = register("METHOD_NOT_ALLOWED", 405, "method not allowed")
BAD_REQUEST = register("BAD_REQUEST", 400, "the request is not valid")
PAYLOAD_TOO_LARGE = register("PAYLOAD_TOO_LARGE", 413, "the request body is too large")
CONFLICT = register("CONFLICT", 409, "the request conflicts with the current state")
# HTTP 507 (Insufficient Storage): a write failed because berth's disk (or quota) is full. Docker
# prints the status line of a 5xx answer ("received unexpected HTTP status: 507 Insufficient Storage").
INSUFFICIENT_STORAGE = register("INSUFFICIENT_STORAGE", 507, "the registry's storage is full")
# Written by the connection guard (berth.connections) before a request reaches the application.
REQUEST_TIMEOUT = register("REQUEST_TIMEOUT", 408, "the request headers did not arrive in time")
HEADERS_TOO_LARGE = register("HEADERS_TOO_LARGE", 431, "the request line and headers are too large")


@dataclass
class WireError(Exception):
    """An error the client receives as the OCI error envelope."""

    error: ErrorCode
    message: str | None = None
    detail: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    # Refused before the request body was read: the dispatcher reads and drops the body (for a
    # bounded time) so that a client still sending it reads the answer instead of a broken pipe.
    drain_body: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return self.message if self.message is not None else self.error.message

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else self.error.status

    def body(self) -> bytes:
        return error_body(self.error, self.text, self.detail)


def error_body(error: ErrorCode, message: str | None = None, detail: Any = None) -> bytes:
    entry: dict[str, Any] = {"code": error.code, "message": message or error.message}
    if detail is not None:
        entry["detail"] = detail
    return json.dumps({"errors": [entry]}, separators=(",", ":")).encode()


# A push that would take a registry past its storage quota (berth.content.quota). On the wire it
# is DENIED (403): the one code docker prints with the message ("denied: <message>") and does not
# retry (it retries unknown codes and 5xx answers, such as 507, five times). The reason in the
# detail tells it from the other denials, and names it in the repository event.
STORAGE_QUOTA_REASON = "storage_quota_exceeded"


def storage_quota_exceeded(message: str, detail: dict[str, Any], *, drain_body: bool = False) -> WireError:
    return WireError(
        DENIED, message, detail={"reason": STORAGE_QUOTA_REASON, **detail}, drain_body=drain_body
    )


def is_storage_quota_refusal(exc: BaseException) -> bool:
    return (
        isinstance(exc, WireError)
        and isinstance(exc.detail, dict)
        and exc.detail.get("reason") == STORAGE_QUOTA_REASON
    )
