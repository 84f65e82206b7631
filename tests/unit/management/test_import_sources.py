"""Reading an image from another OCI registry: challenges, credentials, failures."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import httpx
import pytest

from berth.management.errors import ManagementError
from berth.management.import_sources import RemoteSource
from berth.names import Digest

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
BLOB = b"layer bytes" * 1000
BASIC = "Basic " + base64.b64encode(b"user:secret").decode()


def _basic_registry(request: httpx.Request) -> httpx.Response:
    if request.headers.get("authorization") != BASIC:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="registry"'})
    if request.url.path == "/v2/app/manifests/v1":
        return httpx.Response(
            200, content=MANIFEST, headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        )
    if request.url.path.startswith("/v2/app/blobs/"):
        return httpx.Response(200, content=BLOB)
    return httpx.Response(404)


def _bearer_registry(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/token":
        assert request.url.params["scope"] == "repository:app:pull"
        assert request.url.params["service"] == "reg.example"
        return httpx.Response(200, json={"token": "t0ken"})
    if request.headers.get("authorization") != "Bearer t0ken":
        challenge = 'Bearer realm="https://reg.example/token",service="reg.example"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})
    return httpx.Response(
        200, content=MANIFEST, headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    )


async def _read(source: RemoteSource) -> tuple[str, bytes]:
    try:
        manifest = await source.manifest("app", "v1")
        digest = Digest.parse(f"sha256:{hashlib.sha256(BLOB).hexdigest()}")
        size, chunks = await source.blob("app", digest)
        data = b"".join([block async for block in chunks])
        assert size == len(BLOB)
        return manifest.digest, data
    finally:
        await source.close()


def test_basic_credentials_are_sent_after_the_challenge() -> None:
    source = RemoteSource("reg.example", "user", "secret", transport=httpx.MockTransport(_basic_registry))

    digest, data = asyncio.run(_read(source))

    assert digest == f"sha256:{hashlib.sha256(MANIFEST).hexdigest()}"
    assert data == BLOB


def test_anonymous_bearer_token_from_the_realm() -> None:
    source = RemoteSource("reg.example", None, None, transport=httpx.MockTransport(_bearer_registry))

    async def manifest() -> str:
        try:
            return (await source.manifest("app", "v1")).media_type
        finally:
            await source.close()

    assert asyncio.run(manifest()) == "application/vnd.oci.image.manifest.v1+json"


def test_basic_challenge_without_credentials_asks_for_them() -> None:
    source = RemoteSource("reg.example", None, None, transport=httpx.MockTransport(_basic_registry))

    with pytest.raises(ManagementError, match="wants credentials") as refused:
        asyncio.run(_read(source))
    assert refused.value.status == 400


def test_a_missing_image_is_not_found() -> None:
    source = RemoteSource("reg.example", "user", "secret", transport=httpx.MockTransport(_basic_registry))

    async def missing() -> None:
        try:
            await source.manifest("app", "v404")
        finally:
            await source.close()

    with pytest.raises(ManagementError) as error:
        asyncio.run(missing())
    assert error.value.status == 404
    assert error.value.code == "ResourceNotFound"
