"""External OIDC issuers whose tokens the directory trusts through federated credentials.

An issuer's discovery document (``<issuer>/.well-known/openid-configuration``) names its JWKS;
both are fetched on first use and cached for :data:`CACHE_SECONDS`. A token signed with a key id
the cache does not know triggers one refetch (key rotation), at most every
:data:`REFETCH_SECONDS` per issuer. Only issuers named by some federated credential are ever
fetched, so a caller cannot make berth fetch a URL of its choosing; a failed fetch is remembered for
:data:`FAILURE_SECONDS`, so callers retrying against an issuer that is down fail fast.

Issuers must be ``https://``; plain ``http://`` is accepted only for a loopback host (a local
issuer on the same machine, as the tests run), where no network lies between the two.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

CACHE_SECONDS = 300.0
REFETCH_SECONDS = 30.0
FETCH_TIMEOUT = 5.0
FAILURE_SECONDS = 10.0  # after a failed fetch, refuse at once (same message) for this long
_MAX_DOCUMENT = 256 * 1024


class IssuerUnreachable(Exception):
    """The issuer's discovery document or keys could not be fetched or understood."""


class UnknownKey(Exception):
    """The issuer publishes no key with the token's key id."""


@dataclass
class _Entry:
    fetched_at: float
    keys: dict[str, jwt.PyJWK]


def secure_url(url: str) -> bool:
    """Whether berth may fetch from ``url``: https, or http on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class IssuerKeys:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, verify: bool | str = True) -> None:
        self._transport = transport
        self._verify = verify
        self._cache: dict[str, _Entry] = {}
        self._failures: dict[str, tuple[float, str]] = {}

    async def key(self, issuer: str, kid: str | None) -> jwt.PyJWK:
        """The issuer's signing key ``kid`` (the only key when ``kid`` is None and there is one)."""
        now = time.monotonic()
        entry = self._cache.get(issuer)
        stale = entry is None or now - entry.fetched_at > CACHE_SECONDS
        if not stale and entry is not None and _pick(entry.keys, kid) is None:
            stale = now - entry.fetched_at > REFETCH_SECONDS
        if stale:
            entry = _Entry(now, await self._fetch_or_remember(issuer, now))
            self._cache[issuer] = entry
        assert entry is not None
        found = _pick(entry.keys, kid)
        if found is None:
            raise UnknownKey(f"issuer {issuer} publishes no signing key with key id {kid!r}")
        return found

    async def _fetch_or_remember(self, issuer: str, now: float) -> dict[str, jwt.PyJWK]:
        """Fetch, unless a fetch failed moments ago: many workloads retrying against an issuer that
        is down then cost no network wait each."""
        failed = self._failures.get(issuer)
        if failed is not None and now - failed[0] < FAILURE_SECONDS:
            raise IssuerUnreachable(failed[1])
        try:
            keys = await self._fetch(issuer)
        except IssuerUnreachable as exc:
            self._failures[issuer] = (now, str(exc))
            raise
        self._failures.pop(issuer, None)
        return keys

    async def _fetch(self, issuer: str) -> dict[str, jwt.PyJWK]:
        if not secure_url(issuer):
            raise IssuerUnreachable(f"issuer {issuer} is not an https URL (http only on a loopback host)")
        discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(
            transport=self._transport, verify=self._verify, timeout=FETCH_TIMEOUT, follow_redirects=False
        ) as http:
            discovery = await _get_json(http, discovery_url)
            if discovery.get("issuer") != issuer:
                raise IssuerUnreachable(
                    f"the discovery document of {issuer} names issuer {discovery.get('issuer')!r}"
                )
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not secure_url(jwks_uri):
                raise IssuerUnreachable(f"the discovery document of {issuer} has no usable jwks_uri")
            jwks = await _get_json(http, jwks_uri)
        keys: dict[str, jwt.PyJWK] = {}
        for index, item in enumerate(jwks.get("keys") or []):
            if not isinstance(item, dict) or item.get("use", "sig") != "sig":
                continue
            try:
                keys[str(item.get("kid") or f"#{index}")] = jwt.PyJWK(item)
            except jwt.PyJWTError:
                continue  # a key type berth cannot use; others may still verify
        if not keys:
            raise IssuerUnreachable(f"the JWKS of {issuer} ({jwks_uri}) holds no usable signing key")
        return keys


def _pick(keys: dict[str, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise IssuerUnreachable(f"GET {url} failed: {exc.__class__.__name__}: {exc}") from None
    if response.status_code != 200:
        raise IssuerUnreachable(f"GET {url} answered {response.status_code}")
    if len(response.content) > _MAX_DOCUMENT:
        raise IssuerUnreachable(f"GET {url} answered a document larger than {_MAX_DOCUMENT} bytes")
    try:
        body = response.json()
    except ValueError:
        raise IssuerUnreachable(f"GET {url} did not answer JSON") from None
    if not isinstance(body, dict):
        raise IssuerUnreachable(f"GET {url} did not answer a JSON object")
    return body
