"""Where ``importImage`` reads an image from: a registry of this service, or any OCI registry
over HTTPS (Distribution API, anonymous or with a user name and password, Basic or Bearer token
challenges), trusting the system's CAs (``SSL_CERT_FILE`` names others).

Both give the same two reads: a manifest by tag or digest, and a blob as a stream of chunks.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import httpx

from berth.content.blobs import BlobService
from berth.content.manifest_format import MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES
from berth.content.manifests import ManifestService
from berth.management.errors import ManagementError
from berth.metadata.registries import RegistryRecord
from berth.names import Digest
from berth.services import Services

CHUNK = 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, read=300.0)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class SourceManifest:
    digest: str
    media_type: str
    content: bytes


class ImageSource(Protocol):
    async def manifest(self, repository: str, reference: str) -> SourceManifest: ...

    async def blob(self, repository: str, digest: Digest) -> tuple[int, AsyncIterator[bytes]]: ...


class LocalSource:
    """A registry of this service (repository locks apply as for a pull)."""

    def __init__(self, services: Services, record: RegistryRecord) -> None:
        store = services.store_for(record.id)
        self.blobs = BlobService(record.id, services.db, store)
        self.manifests = ManifestService(record.id, services.db, store, services.pull_cache)

    async def manifest(self, repository: str, reference: str) -> SourceManifest:
        stored = await self.manifests.get(repository, reference)
        return SourceManifest(stored.digest, stored.media_type, stored.content)

    async def blob(self, repository: str, digest: Digest) -> tuple[int, AsyncIterator[bytes]]:
        info = await self.blobs.stat(repository, digest)

        async def chunks() -> AsyncIterator[bytes]:
            body = await self.blobs.open(info, 0, info.size)
            if isinstance(body, bytes):
                yield body
                return
            async for block in body:
                yield block

        return info.size, chunks()


def _failed(message: str, status: int = 400) -> ManagementError:
    code = "ResourceNotFound" if status == 404 else "InvalidParameter"
    return ManagementError(code, f"Import failed: {message}", status, "source")


class RemoteSource:
    """An OCI registry at ``https://<host>``; call :meth:`close` when done."""

    def __init__(
        self,
        host: str,
        username: str | None,
        password: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.host = host
        self._credentials = (username, password or "") if username else None
        self._client = httpx.AsyncClient(
            base_url=f"https://{host}", timeout=TIMEOUT, follow_redirects=True, transport=transport
        )
        self._tokens: dict[str, str] = {}

    async def close(self) -> None:
        await self._client.aclose()

    async def _authorization(self, challenge: str, repository: str) -> str | None:
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self._credentials is None:
                return None
            user, password = self._credentials
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if scheme.lower() != "bearer":
            return None
        values = dict(_CHALLENGE_PARAM.findall(params))
        realm = values.get("realm")
        if not realm:
            return None
        query = {"scope": f"repository:{repository}:pull"}
        if "service" in values:
            query["service"] = values["service"]
        auth = httpx.BasicAuth(*self._credentials) if self._credentials else None
        try:
            answer = await self._client.get(realm, params=query, auth=auth)
        except httpx.HTTPError as exc:
            raise _failed(f"the token service {realm} did not answer: {exc}") from None
        if answer.status_code != 200 and self._credentials is None:
            raise _failed(f"{self.host} wants credentials (--username/--password)")
        if answer.status_code != 200:
            raise _failed(f"{self.host} refused the credentials ({answer.status_code})")
        body = answer.json()
        token = body.get("token") or body.get("access_token")
        return f"Bearer {token}" if token else None

    async def _get(self, repository: str, path: str, headers: dict[str, str]) -> httpx.Response:
        request_headers = dict(headers)
        if repository in self._tokens:
            request_headers["Authorization"] = self._tokens[repository]
        try:
            request = self._client.build_request("GET", path, headers=request_headers)
            response = await self._client.send(request, stream=True)
            if response.status_code == 401 and repository not in self._tokens:
                await response.aclose()
                challenge = response.headers.get("www-authenticate", "")
                authorization = await self._authorization(challenge, repository)
                if authorization is None:
                    raise _failed(f"{self.host} wants credentials (--username/--password)")
                self._tokens[repository] = authorization
                return await self._get(repository, path, headers)
        except httpx.HTTPError as exc:
            raise _failed(f"{self.host} did not answer: {exc}") from None
        if response.status_code != 200:
            await response.aclose()
            status = 404 if response.status_code == 404 else 400
            raise _failed(f"GET https://{self.host}{path} answered {response.status_code}", status)
        return response

    async def manifest(self, repository: str, reference: str) -> SourceManifest:
        accept = ", ".join(MANIFEST_MEDIA_TYPES)
        response = await self._get(repository, f"/v2/{repository}/manifests/{reference}", {"Accept": accept})
        content = b""
        async for block in response.aiter_bytes():
            content += block
            if len(content) > MAX_MANIFEST_BYTES:
                await response.aclose()
                raise _failed("the source manifest is larger than 4 MiB")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return SourceManifest(f"sha256:{hashlib.sha256(content).hexdigest()}", media_type, content)

    async def blob(self, repository: str, digest: Digest) -> tuple[int, AsyncIterator[bytes]]:
        response = await self._get(repository, f"/v2/{repository}/blobs/{digest}", {})
        size = int(response.headers.get("content-length", "-1"))

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for block in response.aiter_bytes(CHUNK):
                    yield block
            finally:
                await response.aclose()

        return size, chunks()
