"""Redirects of blob GETs (``storage_redirect``) on each object store, with authentication on:
a large blob's GET is a 307 to a presigned (S3, moto) or SAS (Azure, Azurite) URL that really
downloads it from the emulator; HEAD, small blobs and unauthorized requests are not redirected;
the URL's signature never reaches the request log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from berth.config import Settings
from berth.events.requestlog import REQUEST_LOGGER
from tests.api.access.wire import TestClient, authorized, basic, digest_of
from tests.api.oci import push_blob
from tests.support.objectstores import AzureServer, S3Server, new_bucket, new_container

LARGE = bytes(range(256)) * 4096 * 2 + b"past 2 MiB"  # over VERIFY_ON_READ: redirected
SMALL = b"a config blob of a few bytes"
REPOSITORY = "redirected"


@pytest.fixture(params=["s3", "azure"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The settings of a new bucket or container on the session's emulator."""
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        credentials = tmp_path / "s3-credentials"
        credentials.write_text(
            f"[default]\naws_access_key_id = {s3.access_key}\naws_secret_access_key = {s3.secret_key}\n"
        )
        return {
            "storage_driver": "s3",
            "s3_endpoint": s3.endpoint,
            "s3_region": s3.region,
            "s3_bucket": new_bucket(s3),
            "s3_credentials_file": credentials,
        }
    azure: AzureServer = request.getfixturevalue("azure_server")
    key_file = tmp_path / "azure-key"
    key_file.write_text(azure.key)
    with new_container(azure) as container:
        name = container.container_name
    return {
        "storage_driver": "azure",
        "azure_account_url": azure.endpoint,
        "azure_container": name,
        "azure_account_key_file": key_file,
    }


@pytest.fixture
def settings(make_settings: Callable[..., Settings], store_settings: dict[str, Any]) -> Settings:
    return make_settings(**store_settings, storage_redirect=True, storage_redirect_seconds=120)


@pytest.fixture
def blobs(client: TestClient, admin: tuple[str, str]) -> dict[str, str]:
    with authorized(client, basic(*admin)):
        return {"large": push_blob(client, REPOSITORY, LARGE), "small": push_blob(client, REPOSITORY, SMALL)}


def test_a_large_blob_get_is_a_307_to_a_url_that_downloads_it(
    client: TestClient,
    admin: tuple[str, str],
    blobs: dict[str, str],
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    path = f"/v2/{REPOSITORY}/blobs/{blobs['large']}"
    with authorized(client, basic(*admin)):
        answer = client.get(path, follow_redirects=False)
        ranged = client.get(path, headers={"Range": "bytes=100-199"}, follow_redirects=False)

    assert answer.status_code == 307, answer.text
    assert answer.content == b""
    assert "Cache-Control" not in answer.headers
    location = answer.headers["Location"]
    endpoint = settings.s3_endpoint or settings.azure_account_url
    assert location.startswith(endpoint + "/")
    assert ranged.status_code == 307
    with httpx.Client(trust_env=False, timeout=30) as store:  # the emulator itself, no credentials
        downloaded = store.get(location)
        part = store.get(ranged.headers["Location"], headers={"Range": "bytes=100-199"})
    assert downloaded.status_code == 200
    assert digest_of(downloaded.content) == blobs["large"]
    assert part.status_code == 206
    assert part.content == LARGE[100:200]

    logged = [r for r in caplog.records if r.name == REQUEST_LOGGER]
    assert any(f"GET {path}" in r.getMessage() and " 307 " in r.getMessage() for r in logged)
    query = location.split("?", 1)[1]
    assert query not in caplog.text
    assert "Signature=" not in caplog.text
    assert "sig=" not in caplog.text


def test_head_and_small_blobs_are_answered_by_berth(
    client: TestClient, admin: tuple[str, str], blobs: dict[str, str]
) -> None:
    with authorized(client, basic(*admin)):
        head = client.head(f"/v2/{REPOSITORY}/blobs/{blobs['large']}", follow_redirects=False)
        small = client.get(f"/v2/{REPOSITORY}/blobs/{blobs['small']}", follow_redirects=False)

    assert head.status_code == 200
    assert "Location" not in head.headers
    assert head.headers["Content-Length"] == str(len(LARGE))
    assert head.headers["Docker-Content-Digest"] == blobs["large"]
    assert small.status_code == 200
    assert small.content == SMALL


@pytest.mark.parametrize("credentials", [None, ("default", "wrong-password")])
def test_an_unauthorized_get_is_401_and_no_url(
    client: TestClient, blobs: dict[str, str], credentials: tuple[str, str] | None
) -> None:
    headers = basic(*credentials) if credentials else {}

    answer = client.get(f"/v2/{REPOSITORY}/blobs/{blobs['large']}", headers=headers, follow_redirects=False)

    assert answer.status_code == 401
    assert "Location" not in answer.headers
    assert "http" not in answer.text.replace("https://aka.ms", "")
