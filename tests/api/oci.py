"""Small builders for the API suite: digests, blobs, manifests and error assertions.

They speak HTTP to the app through a :class:`TestClient`, never to berth's internals, so a
helper that pushes a blob exercises the same upload path a client would.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client and warns once, at import,
    # when it falls back to httpx (which berth depends on). The client behaves the same.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

BASE_URL = "http://localhost:5000"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

# Docker 24+ sends one Accept line per media type it understands.
DOCKER_ACCEPT_LINES = [
    ("Accept", "application/vnd.docker.distribution.manifest.v2+json"),
    ("Accept", "application/vnd.docker.distribution.manifest.list.v2+json"),
    ("Accept", "application/vnd.oci.image.index.v1+json"),
    ("Accept", "application/vnd.oci.image.manifest.v1+json"),
    ("Accept", "application/vnd.docker.distribution.manifest.v1+prettyjws"),
]


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the OCI error envelope with ``code`` at ``status``; returns the entry."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("errors"), list)
    assert len(body["errors"]) == 1, body
    entry: dict[str, Any] = body["errors"][0]
    assert entry["code"] == code, body
    assert isinstance(entry["message"], str)
    assert entry["message"]
    return entry


def push_blob(client: TestClient, repository: str, data: bytes, *, host: str | None = None) -> str:
    """Upload ``data`` monolithically (POST then PUT) and return its digest."""
    headers = {"Host": host} if host else {}
    digest = digest_of(data)
    started = client.post(f"/v2/{repository}/blobs/uploads/", headers=headers)
    assert started.status_code == 202, started.text
    done = client.put(
        started.headers["Location"],
        params={"digest": digest},
        content=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data), **extra}


def image_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    media_type: str = OCI_MANIFEST,
    config_type: str | None = None,
    layer_type: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    docker = media_type == DOCKER_MANIFEST
    config_type = config_type or (DOCKER_CONFIG if docker else OCI_CONFIG)
    layer_type = layer_type or (DOCKER_LAYER if docker else OCI_LAYER)
    return {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, layer) for layer in layers],
        **extra,
    }


def index_manifest(
    children: list[tuple[str, bytes]], *, media_type: str = OCI_INDEX, **extra: Any
) -> dict[str, Any]:
    """An index (or docker manifest list) of ``(media type, manifest bytes)`` children."""
    manifests = [
        descriptor(child_type, body, platform={"architecture": f"arch{i}", "os": "linux"})
        for i, (child_type, body) in enumerate(children)
    ]
    return {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests, **extra}


def push_manifest(
    client: TestClient,
    repository: str,
    reference: str,
    body: bytes,
    media_type: str,
    *,
    host: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": media_type}
    if host:
        headers["Host"] = host
    response: httpx.Response = client.put(
        f"/v2/{repository}/manifests/{reference}", content=body, headers=headers
    )
    return response


def push_image(
    client: TestClient,
    repository: str,
    reference: str | None,
    *,
    seed: str = "image",
    media_type: str = OCI_MANIFEST,
    host: str | None = None,
    **extra: Any,
) -> tuple[bytes, str]:
    """Push a config, one layer and a manifest; returns (manifest bytes, manifest digest).

    ``reference`` None pushes the manifest by its digest, without a tag.
    """
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode()
    push_blob(client, repository, config, host=host)
    push_blob(client, repository, layer, host=host)
    body = canonical(image_manifest(config, [layer], media_type=media_type, **extra))
    reference = reference or digest_of(body)
    response = push_manifest(client, repository, reference, body, media_type, host=host)
    assert response.status_code == 201, response.text
    return body, digest_of(body)


def files_under(path: Path) -> list[Path]:
    """Every regular file below ``path`` (none when it does not exist)."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
