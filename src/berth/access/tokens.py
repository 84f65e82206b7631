"""ACR's own tokens: RS256 JWTs for one registry, as ``/oauth2/token`` and ``/oauth2/exchange``
return them.

Refresh tokens (3 hours) name the identity; access tokens (75 minutes) also list the granted
``access``, requested repository first. Payloads are plain ASCII JSON without ``>``, ``?`` or
``~``, because the Azure SDK decodes them with the standard (not URL-safe) base64 alphabet.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from berth.access.keys import InvalidToken, Keyring
from berth.access.model import Access, Identity, IdentityKind

ISSUER = "Azure Container Registry"
ACCESS_TOKEN_SECONDS = 75 * 60
REFRESH_TOKEN_SECONDS = 3 * 3600
LEEWAY_SECONDS = 60
_UNSAFE_FOR_SDK = (">", "?", "~")


@dataclass(frozen=True)
class TokenSubject:
    """Who an ACR token speaks for, enough to check later that they still may."""

    identity: Identity
    subject_id: str  # identity object id, token id, registry id (admin) or "" (anonymous)
    tenant_id: str


class TokenRejected(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _safe(text: str) -> str:
    """Drop characters that would make the payload's base64 carry URL-safe-only characters."""
    return "".join(ch for ch in text if ch not in _UNSAFE_FOR_SDK)


def _base_claims(
    subject: TokenSubject, audience: str, registry_id: str, lifetime: int, not_after: float | None
) -> dict[str, Any]:
    issued = time.time()
    now = int(issued)
    expires = now + lifetime if not_after is None else min(now + lifetime, int(not_after))
    return {
        "jti": str(uuid.uuid4()),
        "sub": _safe(subject.identity.name or "anonymous"),
        "nbf": now - LEEWAY_SECONDS,
        "exp": expires,
        "iat": now,
        "iss": ISSUER,
        "aud": audience,
        "version": "1.0",
        "rid": registry_id,
        "tenant": subject.tenant_id,
        "roles": [],
        "berth_kind": subject.identity.kind.value,
        "berth_id": subject.subject_id,
        "berth_oid": subject.identity.object_id,
        "berth_iat": round(issued, 3),
    }


def issue_refresh_token(
    keyring: Keyring, subject: TokenSubject, audience: str, registry_id: str, not_after: float | None = None
) -> tuple[str, str]:
    """A refresh token; ``not_after`` caps its expiry (the credential it was issued for)."""
    claims = _base_claims(subject, audience, registry_id, REFRESH_TOKEN_SECONDS, not_after)
    claims["grant_type"] = "refresh_token"
    claims["permissions"] = {"Actions": ["*"], "NotActions": None}
    return keyring.sign(claims), claims["jti"]


def access_token_claims(
    subject: TokenSubject,
    audience: str,
    registry_id: str,
    granted: list[dict[str, Any]],
    not_after: float | None = None,
) -> dict[str, Any]:
    """The claims of a new access token (``berth_iat`` says when it was issued)."""
    claims = _base_claims(subject, audience, registry_id, ACCESS_TOKEN_SECONDS, not_after)
    claims["grant_type"] = "access_token"
    claims["access"] = granted
    return claims


def issue_access_token(
    keyring: Keyring,
    subject: TokenSubject,
    audience: str,
    registry_id: str,
    granted: list[dict[str, Any]],
    not_after: float | None = None,
) -> tuple[str, str]:
    claims = access_token_claims(subject, audience, registry_id, granted, not_after)
    return keyring.sign(claims), claims["jti"]


def access_claim(accesses: list[tuple[str, str, list[str]]]) -> list[dict[str, Any]]:
    return [{"type": kind, "name": name, "actions": actions} for kind, name, actions in accesses]


def decode(keyring: Keyring, token: str, audience: str, registry_id: str) -> dict[str, Any]:
    """Verify an ACR token for this registry; raises :class:`TokenRejected` with the reason."""
    try:
        key = keyring.public_key_for(token)
    except InvalidToken as exc:
        raise TokenRejected("token_invalid", str(exc)) from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "jti"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("token_expired", "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRejected("token_not_yet_valid", "the token is not valid yet (check the clocks)") from None
    except jwt.PyJWTError as exc:
        raise TokenRejected("token_invalid", f"the token is not valid: {exc}") from None
    if claims.get("aud") != audience or claims.get("rid") != registry_id:
        raise TokenRejected("wrong_registry", f"the token was issued for {claims.get('aud')}, not {audience}")
    return claims


def subject_of(claims: dict[str, Any]) -> TokenSubject:
    try:
        kind = IdentityKind(claims.get("berth_kind", ""))
    except ValueError:
        raise TokenRejected("token_invalid", "the token does not name a known kind of identity") from None
    identity = Identity(kind, str(claims.get("sub", "")), str(claims.get("berth_oid", "")))
    if kind is IdentityKind.ANONYMOUS:
        identity = Identity(kind, "")
    return TokenSubject(identity, str(claims.get("berth_id", "")), str(claims.get("tenant", "")))


def granted_accesses(claims: dict[str, Any]) -> frozenset[Access]:
    granted: set[Access] = set()
    for entry in claims.get("access") or []:
        if not isinstance(entry, dict):
            continue
        for action in entry.get("actions") or []:
            granted.add(Access(str(entry.get("type")), str(entry.get("name")), str(action)))
    return frozenset(granted)
