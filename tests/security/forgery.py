"""Hand-made JWTs for the forgery suites: any header, any claims, any (or no) signature."""

from __future__ import annotations

import base64
import json
from typing import Any


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def json_part(value: dict[str, Any]) -> str:
    """One base64url JSON segment of a JWT."""
    return b64(json.dumps(value).encode())


def forge(header_claims: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join([json_part(header_claims), json_part(claims), b64(signature)])
