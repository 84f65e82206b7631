"""A blob whose stored bytes do not match its digest is never served, and a push heals it.

Whatever damaged the bytes (a disk, a hand, a bug), whole blobs of up to
``berth.content.blobs.VERIFY_ON_READ`` bytes are hashed on every read: a mismatch is removed
(``404 BLOB_UNKNOWN``), never sent, and the next push of the digest stores it again. A push of
a digest that is already stored replaces the bytes with the ones it just verified.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.app import BerthApp, build_app
from berth.config import load_settings
from berth.content.blobs import VERIFY_ON_READ
from tests.api.oci import BASE_URL, TestClient, assert_error, digest_of

REPOSITORY = "integrity/app"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    settings = load_settings(
        overrides={"insecure_no_auth": True, "data_dir": tmp_path, "database_url": database_url}, environ={}
    )
    return build_app(settings)


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as started:
        yield started


def push(client: TestClient, data: bytes, repository: str = REPOSITORY) -> None:
    response = client.post(
        f"/v2/{repository}/blobs/uploads/", params={"digest": digest_of(data)}, content=data
    )
    assert response.status_code == 201, response.text


def damage(app: BerthApp, data: bytes) -> Path:
    """Overwrite the stored bytes of ``data``'s blob in place (same size, other content)."""
    digest = digest_of(data).split(":")[1]
    (path,) = app.services.settings.resolved_storage_path.glob(
        f"registries/*/blobs/sha256/{digest[:2]}/{digest}"
    )
    path.write_bytes(bytes(b ^ 0xFF for b in data))
    return path


def test_a_damaged_small_blob_is_not_served_and_a_push_heals_it(app: BerthApp, client: TestClient) -> None:
    data = b"a config blob" * 100
    push(client, data)
    path = damage(app, data)

    assert_error(client.get(f"/v2/{REPOSITORY}/blobs/{digest_of(data)}"), 404, "BLOB_UNKNOWN")
    assert not path.exists()
    assert client.head(f"/v2/{REPOSITORY}/blobs/{digest_of(data)}").status_code == 404  # docker pushes again

    push(client, data)

    healed = client.get(f"/v2/{REPOSITORY}/blobs/{digest_of(data)}")
    assert healed.status_code == 200
    assert healed.content == data


def test_a_push_of_a_stored_digest_replaces_damaged_bytes(app: BerthApp, client: TestClient) -> None:
    data = bytes(range(256)) * (VERIFY_ON_READ // 256 + 16)  # past the verify-on-read size
    push(client, data)
    damage(app, data)

    push(client, data, "integrity/other")

    for repository in (REPOSITORY, "integrity/other"):
        served = client.get(f"/v2/{repository}/blobs/{digest_of(data)}")
        assert served.status_code == 200
        assert served.content == data


def test_a_blob_whose_bytes_are_gone_is_unknown_not_an_error(app: BerthApp, client: TestClient) -> None:
    data = bytes(range(256)) * (VERIFY_ON_READ // 256 + 16)
    push(client, data)
    damage(app, data).unlink()

    assert_error(client.get(f"/v2/{REPOSITORY}/blobs/{digest_of(data)}"), 404, "BLOB_UNKNOWN")
