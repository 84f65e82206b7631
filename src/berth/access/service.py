"""The access service: authenticate, issue ACR tokens, and check them on every data call.

Verified tokens and identity checks are cached briefly (seconds), so a hot data path pays
neither an RSA verification nor a query per request, while a disabled or deleted identity
loses access within :data:`STATUS_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from berth import errors
from berth.access.issued_cache import IssuedTokens, Signed, issued_key
from berth.access.keys import Keyring
from berth.access.limits import LoginLimits
from berth.access.model import Access, Denial, Identity, IdentityKind
from berth.access.principals import NULL_GUID, Principal, PrincipalResolver, unauthorized
from berth.access.scopes import Scope
from berth.access.tokens import (
    TokenRejected,
    TokenSubject,
    access_claim,
    access_token_claims,
    decode,
    granted_accesses,
    issue_refresh_token,
    subject_of,
)
from berth.config import Settings
from berth.directory.tokens import ACCESS_TYPE, CONTAINER_REGISTRY, MANAGEMENT, DirectoryTokens
from berth.errors import WireError
from berth.metadata.registries import RegistryRecord

STATUS_SECONDS = 2.0
_TOKEN_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jwt_id: str
    granted: tuple[Access, ...] = ()


@dataclass(frozen=True)
class VerifiedToken:
    """An ACR token whose signature and claims were checked, with what it says, parsed once."""

    claims: dict[str, Any]
    subject: TokenSubject
    granted: frozenset[Access]
    issued_at: float
    expires_at: float

    @property
    def grant_type(self) -> object:
        return self.claims.get("grant_type")


@dataclass(frozen=True)
class BearerCheck:
    principal: Principal
    granted: frozenset[Access]
    jwt_id: str


def rate_limited(identity: Identity | None, retry_after: int) -> Denial:
    return Denial(
        "rate_limited",
        WireError(
            errors.TOOMANYREQUESTS,
            f"too many failed authentication attempts; retry after {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        ),
        identity,
        f"over the limit of failed authentications; retry after {retry_after}s",
    )


def parse_basic(value: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class AccessService:
    def __init__(
        self,
        settings: Settings,
        keyring: Keyring,
        resolver: PrincipalResolver,
        limits: LoginLimits,
        directory_tokens: DirectoryTokens,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.resolver = resolver
        self.limits = limits
        self.directory_tokens = directory_tokens
        self._verified: OrderedDict[bytes, VerifiedToken] = OrderedDict()
        self._audiences: dict[str, str] = {}
        self._status: dict[tuple[str, str, str, float], tuple[float, Principal | Denial]] = {}
        self._lock = threading.Lock()
        self._issued = IssuedTokens()

    def audience(self, registry: RegistryRecord) -> str:
        """The registry's login server: the ``aud`` of its tokens (memoized: it is on every request)."""
        audience = self._audiences.get(registry.name)
        if audience is None:
            audience = self._audiences[registry.name] = self.settings.login_server(registry.name)
        return audience

    # --- authenticating -------------------------------------------------------------------

    async def authenticate_basic(
        self, registry: RegistryRecord, username: str, password: str
    ) -> Principal | Denial:
        if username == NULL_GUID:
            # ACR's null GUID means "the password is a refresh token". An access token is not a
            # password: accepted here it would stand for its identity's full permissions (and
            # could be swapped for a refresh token), not for the scopes it was issued with.
            return await self.from_acr_token(registry, password)
        return await self.resolver.from_password(registry, username, password)

    async def from_acr_token(
        self,
        registry: RegistryRecord,
        token: str,
        grant_types: tuple[str, ...] = ("refresh_token",),
    ) -> Principal | Denial:
        """The principal behind an ACR refresh token, re-checked as of now.

        Tokens issued for it expire no later than it does (:attr:`Principal.not_after`).

        Issuing goes to the database every time (no status cache): a just-disabled identity or a
        just-removed role must not get new tokens, even for the few seconds bearer checks allow.
        """
        try:
            verified = self._verify(registry, token)
        except TokenRejected as exc:
            return unauthorized(exc.reason, None, str(exc))
        if verified.grant_type not in grant_types:
            return unauthorized(
                "token_invalid",
                verified.subject.identity,
                f"a token of grant type {verified.grant_type} is not a refresh token",
            )
        current = await self.resolver.current(registry, verified.subject, verified.issued_at)
        return current if isinstance(current, Denial) else replace(current, not_after=verified.expires_at)

    async def from_directory_token(
        self, registry: RegistryRecord, token: str, token_type: str = ACCESS_TYPE
    ) -> Principal | Denial:
        """``/oauth2/exchange``: a directory token for a user or SP that holds a role on the registry."""
        audiences = (
            (CONTAINER_REGISTRY, MANAGEMENT) if token_type == ACCESS_TYPE else (self.directory_tokens.issuer,)
        )
        try:
            claims = self.directory_tokens.verify(token, audiences, token_type)
        except TokenRejected as exc:
            return unauthorized(exc.reason, None, str(exc))
        kind = IdentityKind.USER if claims.kind == "user" else IdentityKind.SERVICE_PRINCIPAL
        subject = self.resolver.subject(Identity(kind, claims.name, claims.object_id), claims.object_id)
        return await self.resolver.current(registry, subject, claims.issued_at)

    async def check_bearer(self, registry: RegistryRecord, token: str) -> BearerCheck | Denial:
        try:
            verified = self._verify(registry, token)
        except TokenRejected as exc:
            return unauthorized(exc.reason, None, str(exc))
        if verified.grant_type != "access_token":
            return unauthorized(
                "token_invalid", verified.subject.identity, "only access tokens are accepted as bearer tokens"
            )
        current = await self._current(registry, verified.subject, verified.issued_at)
        if isinstance(current, Denial):
            return current
        return BearerCheck(current, verified.granted, str(verified.claims["jti"]))

    def _verify(self, registry: RegistryRecord, token: str) -> VerifiedToken:
        """Signature and claims checked once per token (then cached until it expires)."""
        key = hashlib.sha256(token.encode()).digest()
        cached = self._verified.get(key)
        if cached is not None and cached.expires_at > time.time():
            claims = cached.claims
            if claims.get("rid") != registry.id or claims.get("aud") != self.audience(registry):
                raise TokenRejected("wrong_registry", f"the token was issued for {claims.get('aud')}")
            return cached
        claims = decode(self.keyring, token, self.audience(registry), registry.id)
        verified = VerifiedToken(
            claims,
            subject_of(claims),
            granted_accesses(claims),
            float(claims.get("berth_iat", claims["iat"])),
            float(claims["exp"]),
        )
        with self._lock:
            self._verified[key] = verified
            while len(self._verified) > _TOKEN_CACHE_SIZE:
                self._verified.popitem(last=False)
        return verified

    async def _current(
        self, registry: RegistryRecord, subject: TokenSubject, issued_at: float
    ) -> Principal | Denial:
        key = (registry.id, subject.identity.kind.value, subject.subject_id, issued_at)
        now = time.monotonic()
        cached = self._status.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        result = await self.resolver.current(registry, subject, issued_at)
        if len(self._status) > _TOKEN_CACHE_SIZE:
            self._status.clear()
        self._status[key] = (now + STATUS_SECONDS, result)
        return result

    # --- issuing --------------------------------------------------------------------------

    def issue_access_token(
        self, registry: RegistryRecord, principal: Principal, scopes: list[Scope]
    ) -> IssuedToken:
        """A signed access token; the same one again for an identical grant within a few seconds.

        ``principal`` was resolved from the database for this request (see
        :mod:`berth.access.issued_cache` for why reusing a recent signature stays correct).
        """
        granted = principal.permissions.grant(scopes)
        claim = access_claim(granted)
        audience = self.audience(registry)
        key = issued_key(
            registry.id, audience, principal.subject, claim, principal.not_after, self.keyring.active_kid
        )
        signed = self._issued.get(key, principal.valid_after)
        if signed is None:
            claims = access_token_claims(principal.subject, audience, registry.id, claim, principal.not_after)
            signed = Signed(self.keyring.sign(claims), str(claims["jti"]), float(claims["berth_iat"]))
            self._issued.put(key, signed)
        accesses = tuple(Access(kind, name, action) for kind, name, actions in granted for action in actions)
        return IssuedToken(signed.token, signed.jwt_id, accesses)

    def issue_refresh_token(self, registry: RegistryRecord, principal: Principal) -> IssuedToken:
        token, jti = issue_refresh_token(
            self.keyring, principal.subject, self.audience(registry), registry.id, principal.not_after
        )
        return IssuedToken(token, jti)
