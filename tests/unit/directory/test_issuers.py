"""Fetching an external issuer's keys: only https (or loopback http), discovery must name the
issuer, keys cached, one refetch for an unknown key id."""

from __future__ import annotations

import asyncio
import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from berth.directory.issuers import IssuerKeys, IssuerUnreachable, UnknownKey, secure_url

ISSUER = "https://issuer.example/tenant"


def test_secure_urls() -> None:
    assert secure_url("https://issuer.example")
    assert secure_url("http://127.0.0.1:8080/x")
    assert secure_url("http://localhost:8080")
    assert not secure_url("http://issuer.example")
    assert not secure_url("ftp://127.0.0.1")
    assert not secure_url("https://")


def _jwks(kid: str) -> dict[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {"keys": [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid}]}


def test_keys_are_cached_and_refetched_for_an_unknown_kid() -> None:
    calls: list[str] = []
    issuer_name = {"value": ISSUER}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"issuer": issuer_name["value"], "jwks_uri": f"{ISSUER}/keys"})
        return httpx.Response(200, json=_jwks("k1"))

    keys = IssuerKeys(transport=httpx.MockTransport(handler))
    first = asyncio.run(keys.key(ISSUER, "k1"))
    second = asyncio.run(keys.key(ISSUER, "k1"))
    assert first is second
    assert len(calls) == 2
    with pytest.raises(UnknownKey):
        asyncio.run(keys.key(ISSUER, "k2"))
    assert len(calls) == 2  # fetched less than 30 s ago: no refetch yet

    issuer_name["value"] = "https://impostor.example"
    with pytest.raises(IssuerUnreachable, match="names issuer"):
        asyncio.run(IssuerKeys(transport=httpx.MockTransport(handler)).key(ISSUER, "k1"))
    with pytest.raises(IssuerUnreachable, match="not an https URL"):
        asyncio.run(keys.key("http://issuer.example", "k1"))


def test_an_issuer_that_answers_errors_is_unreachable_and_remembered() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503)

    keys = IssuerKeys(transport=httpx.MockTransport(handler))
    for _ in range(3):
        with pytest.raises(IssuerUnreachable, match="answered 503"):
            asyncio.run(keys.key(ISSUER, None))
    assert len(calls) == 1  # the failure is remembered for a while: no fetch per retry
