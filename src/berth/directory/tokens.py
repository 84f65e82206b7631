"""Directory tokens: what the built-in identity provider issues, and how others verify them.

Access tokens look like Entra ID v2 tokens (``tid``, ``oid``, ``appid``/``upn``, ``aud``,
``iss``, ``exp``) for one of two audiences: the container registry (for ``/oauth2/exchange``)
and the management API. Refresh tokens let the CLI renew access tokens without a password.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from berth.access.keys import InvalidToken, Keyring
from berth.access.tokens import LEEWAY_SECONDS, TokenRejected
from berth.metadata.identities import USER, IdentityRecord

CONTAINER_REGISTRY = "https://containerregistry.azure.net"
MANAGEMENT = "https://management.azure.com"
AUDIENCE_ALIASES = {
    CONTAINER_REGISTRY: CONTAINER_REGISTRY,
    MANAGEMENT: MANAGEMENT,
    "https://management.core.windows.net": MANAGEMENT,
}
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 14 * 24 * 3600
ACCESS_TYPE = "directory_access"
REFRESH_TYPE = "directory_refresh"


OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


def audience_for_scope(scope: str, graph_resource: str | None = None) -> str | None:
    """The audience a ``<resource>/.default`` scope asks for, or None if berth has no such resource.

    ``graph_resource`` (berth's own address, which az uses as the Graph resource id) asks for a
    management token: the Graph-shaped API is part of the management API.
    """
    aliases = dict(AUDIENCE_ALIASES)
    if graph_resource:
        aliases[graph_resource.rstrip("/")] = MANAGEMENT
    for item in scope.split():
        resource = item.removesuffix("/.default").rstrip("/")
        if resource in aliases:
            return aliases[resource]
    return None


def granted_scope(requested: str, audience: str) -> str:
    """The ``scope`` to answer: the requested resource scopes exactly as sent (MSAL files tokens
    under it), without OpenID Connect's own; ``<audience>/.default`` when none was sent."""
    kept = [item for item in requested.split() if item.lower() not in OIDC_SCOPES]
    return " ".join(kept) or f"{audience}/.default"


@dataclass(frozen=True)
class DirectoryClaims:
    object_id: str
    tenant_id: str
    audience: str
    issued_at: float
    kind: str
    name: str
    raw: dict[str, Any]


class DirectoryTokens:
    def __init__(self, keyring: Keyring, tenant_id: str, issuer: str) -> None:
        self.keyring = keyring
        self.tenant_id = tenant_id
        self.issuer = issuer

    def _claims(self, identity: IdentityRecord, lifetime: int, client_id: str) -> dict[str, Any]:
        issued = time.time()
        now = int(issued)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "iat": now,
            "nbf": now - LEEWAY_SECONDS,
            "exp": now + lifetime,
            "tid": self.tenant_id,
            "oid": identity.id,
            "sub": identity.id,
            "ver": "2.0",
            "uti": str(uuid.uuid4()),
            "jti": str(uuid.uuid4()),
            "azp": client_id,
            "berth_iat": round(issued, 3),
        }
        if identity.kind == USER:
            claims.update(
                {"upn": identity.upn, "preferred_username": identity.upn, "name": identity.display_name}
            )
        else:
            claims.update(
                {"appid": identity.app_id, "idtyp": "app", "app_displayname": identity.display_name}
            )
        return claims

    def issue_access_token(self, identity: IdentityRecord, audience: str, client_id: str) -> tuple[str, int]:
        claims = self._claims(identity, ACCESS_TOKEN_SECONDS, client_id)
        claims.update({"aud": audience, "berth_typ": ACCESS_TYPE})
        return self.keyring.sign(claims), ACCESS_TOKEN_SECONDS

    def issue_refresh_token(self, identity: IdentityRecord, client_id: str) -> str:
        claims = self._claims(identity, REFRESH_TOKEN_SECONDS, client_id)
        claims.update({"aud": self.issuer, "berth_typ": REFRESH_TYPE})
        return self.keyring.sign(claims)

    def verify(
        self, token: str, audiences: tuple[str, ...], token_type: str = ACCESS_TYPE
    ) -> DirectoryClaims:
        """Check signature, issuer, audience, lifetime and tenant; raises TokenRejected."""
        try:
            key = self.keyring.public_key_for(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=list(audiences),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "oid", "tid"]},
            )
        except InvalidToken as exc:
            raise TokenRejected("token_invalid", str(exc)) from None
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token_expired", "the directory token has expired; sign in again") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected(
                "wrong_audience", f"the directory token is not for {' or '.join(audiences)}"
            ) from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected(
                "token_not_yet_valid", "the directory token is not valid yet (check the clocks)"
            ) from None
        except jwt.PyJWTError as exc:
            raise TokenRejected("token_invalid", f"the directory token is not valid: {exc}") from None
        if claims.get("tid") != self.tenant_id:
            raise TokenRejected(
                "wrong_tenant", f"the token is from tenant {claims.get('tid')}, not {self.tenant_id}"
            )
        if claims.get("berth_typ") != token_type:
            raise TokenRejected("token_invalid", f"expected a {token_type.replace('_', ' ')} token")
        kind = "user" if claims.get("upn") else "service_principal"
        return DirectoryClaims(
            object_id=str(claims["oid"]),
            tenant_id=str(claims["tid"]),
            audience=str(claims["aud"]),
            issued_at=float(claims.get("berth_iat", claims["iat"])),
            kind=kind,
            name=str(claims.get("upn") or claims.get("appid") or claims["oid"]),
            raw=claims,
        )
