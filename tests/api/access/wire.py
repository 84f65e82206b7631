"""HTTP helpers for the access suite: credentials, token requests and token inspection."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client and warns at import when it
    # falls back to httpx; the client behaves the same.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

BASE_URL = "http://localhost:5000"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

SERVICE = "localhost:5000"
REALM = "http://localhost:5000/oauth2/token"
UNAUTHORIZED_MESSAGE = "authentication required, visit https://aka.ms/acr/authorization for more information."
NOT_REGISTERED = "Application not registered with AAD."


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def payload(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verification (as clients do)."""
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def token_get(
    client: TestClient,
    username: str | None,
    password: str | None,
    *scopes: str,
    offline: bool = False,
    **extra: str,
) -> httpx.Response:
    """docker's ``GET /oauth2/token`` (Basic credentials, or none when ``username`` is None)."""
    params: list[tuple[str, str]] = [("service", extra.pop("service", SERVICE))]
    if username is not None:
        params.append(("account", username))
    if offline:
        params += [("client_id", "docker"), ("offline_token", "true")]
    params += [("scope", scope) for scope in scopes]
    params += list(extra.items())
    headers = basic(username, password or "") if username is not None else {}
    response: httpx.Response = client.get("/oauth2/token", params=params, headers=headers)
    return response


def access_token(client: TestClient, username: str, password: str, *scopes: str) -> str:
    response = token_get(client, username, password, *scopes)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def token_post(client: TestClient, **form: str) -> httpx.Response:
    form.setdefault("service", SERVICE)
    response: httpx.Response = client.post("/oauth2/token", data=form)
    return response


def exchange(client: TestClient, directory_token: str, **form: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/oauth2/exchange",
        params={"api-version": "2021-07-01"},
        data={"grant_type": "access_token", "service": SERVICE, "access_token": directory_token, **form},
    )
    return response


def sp_directory_token(client: TestClient, tenant: str, app_id: str, secret: str) -> str:
    """A directory access token for a service principal (client credentials)."""
    response = client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "scope": "https://containerregistry.azure.net/.default",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def user_directory_token(client: TestClient, tenant: str, upn: str, password: str) -> str:
    response = client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "username": upn,
            "password": password,
            "scope": "https://containerregistry.azure.net/.default",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The single error entry of an OCI error envelope."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert len(body["errors"]) == 1, body
    entry: dict[str, Any] = body["errors"][0]
    return entry


def challenge_params(response: httpx.Response) -> dict[str, str]:
    """The Bearer challenge's parameters (the full header format is asserted separately)."""
    value = response.headers["WWW-Authenticate"]
    assert value.startswith("Bearer "), value
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


@contextlib.contextmanager
def authorized(client: TestClient, headers: dict[str, str]) -> Iterator[TestClient]:
    """Send ``headers`` (e.g. Basic credentials) with every request inside the block."""
    saved = client.headers.get("Authorization")
    client.headers.update(headers)
    try:
        yield client
    finally:
        if saved is None:
            client.headers.pop("Authorization", None)
        else:
            client.headers["Authorization"] = saved


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def image_manifest(config: bytes, layer: bytes) -> bytes:
    """The OCI image manifest of one config and one layer, canonically encoded."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest_of(layer),
                    "size": len(layer),
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


def push_image(client: TestClient, repository: str, tag: str, *, seed: str) -> str:
    """Push a config, a layer and an OCI manifest tagged ``tag``; returns the manifest digest.

    The caller supplies credentials (see :func:`authorized`).
    """
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode()
    for blob in (config, layer):
        started = client.post(f"/v2/{repository}/blobs/uploads/")
        assert started.status_code == 202, started.text
        done = client.put(
            started.headers["Location"],
            params={"digest": digest_of(blob)},
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
    manifest = image_manifest(config, layer)
    response = client.put(
        f"/v2/{repository}/manifests/{tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == digest_of(manifest)
    return digest_of(manifest)
