"""The S3 driver against moto in server mode (a separate process, spoken to over HTTP):
the shared driver suite, plus the S3 layout and the commit paths."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from berth.config import load_settings
from berth.content.janitor import STRAY_GRACE_SECONDS, PurgeReport, UploadJanitor
from berth.metadata.database import Database
from berth.storage import StorageDriver
from berth.storage.configured import build_storage
from berth.storage.s3 import MIN_MULTIPART, S3Driver
from tests.support.objectstores import S3Server, new_bucket, s3_client
from tests.unit.storage.driver_suite import (
    OTHER_UPLOAD,
    REGISTRY_A,
    UPLOAD,
    DriverSuite,
    assert_downloads,
    digest_of,
    joined,
    store_blob,
    write_part,
)


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return new_bucket(s3_server)


class TestS3Driver(DriverSuite):
    @pytest.fixture
    def driver(self, s3_server: S3Server, bucket: str) -> StorageDriver:
        return S3Driver(s3_client(s3_server), bucket, prefix="berth")


def keys(server: S3Server, bucket: str) -> list[str]:
    listed = s3_client(server).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_layout_under_the_prefix(s3_server: S3Server, bucket: str) -> None:
    driver = S3Driver(s3_client(s3_server), bucket, prefix="/team/berth/")
    store = driver.registry(REGISTRY_A)
    digest = store_blob(store, b"laid out")

    assert keys(s3_server, bucket) == [
        f"team/berth/registries/{REGISTRY_A}/blobs/sha256/{digest.split(':')[1]}",
        f"team/berth/registries/{REGISTRY_A}/uploads/{UPLOAD}/p0",
    ]
    assert store.local_path(digest) is None


def test_large_parts_are_composed_by_server_side_copy(s3_server: S3Server, bucket: str) -> None:
    """Parts of 5 MiB or more (all but the last) become a multipart upload of copies."""
    store = S3Driver(s3_client(s3_server), bucket).registry(REGISTRY_A)
    data = bytes(range(256)) * (MIN_MULTIPART // 256) * 2 + b"tail"
    write_part(store, UPLOAD, "p1", data[:MIN_MULTIPART])
    write_part(store, UPLOAD, "p2", data[MIN_MULTIPART:])
    digest = digest_of(data)

    store.commit_upload(UPLOAD, ["p1", "p2"], digest)

    assert store.stat(digest) == len(data)
    assert joined(store.read(digest)) == data
    assert joined(store.read(digest, MIN_MULTIPART - 3, 10)) == data[MIN_MULTIPART - 3 : MIN_MULTIPART + 7]


@pytest.mark.parametrize("digest", ["sha256:../../x", "sha256:a/b", "sha256:", ":abc"])
def test_digests_that_would_escape_the_registry_are_refused(
    s3_server: S3Server, bucket: str, digest: str
) -> None:
    store = S3Driver(s3_client(s3_server), bucket).registry(REGISTRY_A)

    with pytest.raises(ValueError, match="unsafe storage key"):
        store.stat(digest)
    with pytest.raises(ValueError, match="unsafe storage key"):
        store.part_writer("..", "p0")


def test_the_settings_build_an_s3_driver_with_credentials_from_a_file(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    credentials = tmp_path / "s3-credentials"
    credentials.write_text(
        f"[default]\naws_access_key_id = {s3_server.access_key}\n"
        f"aws_secret_access_key = {s3_server.secret_key}\n"
    )
    settings = load_settings(
        overrides={
            "storage_driver": "s3",
            "s3_endpoint": s3_server.endpoint,
            "s3_bucket": bucket,
            "s3_region": s3_server.region,
            "s3_credentials_file": credentials,
            "storage_prefix": "configured",
        },
        environ={},
    )

    driver = build_storage(settings)
    digest = store_blob(driver.registry(REGISTRY_A), b"through the settings")

    assert isinstance(driver, S3Driver)
    assert list(driver.registry_ids()) == [REGISTRY_A]
    assert (
        keys(s3_server, bucket)[0]
        == f"configured/registries/{REGISTRY_A}/blobs/sha256/{digest.split(':')[1]}"
    )


def test_the_upload_janitor_removes_stray_sessions_from_the_bucket(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    """Session times come from the objects' LastModified: an hour-old stray session is purged."""
    db = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    db.create_schema()
    driver = S3Driver(s3_client(s3_server), bucket)
    digest = store_blob(driver.registry(REGISTRY_A), b"kept blob")
    write_part(driver.registry(REGISTRY_A), OTHER_UPLOAD, "p0", b"stray bytes")
    janitor = UploadJanitor(db, driver, 3600.0)

    assert janitor.purge() == PurgeReport(0, 0, 0)  # too recent to be a stray
    report = janitor.purge(now=time.time() + 2 * STRAY_GRACE_SECONDS)
    db.dispose()

    assert report == PurgeReport(0, 2, len(b"kept blob") + len(b"stray bytes"))
    assert keys(s3_server, bucket) == [f"registries/{REGISTRY_A}/blobs/sha256/{digest.split(':')[1]}"]


def test_the_secret_key_is_never_logged(
    s3_server: S3Server, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = S3Driver(s3_client(s3_server), bucket).registry(REGISTRY_A)
    with caplog.at_level(logging.DEBUG):
        store_blob(store, b"logged or not")

    assert caplog.records  # botocore did log at debug level
    assert s3_server.secret_key not in caplog.text


def test_a_part_put_by_multipart_upload_is_copied_and_read_whole(s3_server: S3Server, bucket: str) -> None:
    """A part over boto3's multipart threshold (8 MiB) is a multipart object, with a composite
    checksum; reading the blob copied from it must not trip over that checksum."""
    store = S3Driver(s3_client(s3_server), bucket).registry(REGISTRY_A)
    data = bytes(range(256)) * 4096 * 10  # 10 MiB
    write_part(store, UPLOAD, "p0", data)
    digest = digest_of(data)

    store.commit_upload(UPLOAD, ["p0"], digest)

    assert joined(store.read(digest)) == data


def test_a_redirect_url_downloads_the_blob_without_credentials(s3_server: S3Server, bucket: str) -> None:
    store = S3Driver(s3_client(s3_server), bucket).registry(REGISTRY_A)

    url = assert_downloads(store.redirect_url(store_blob(store, b"presigned bytes"), 60), b"presigned bytes")

    assert url.startswith(f"{s3_server.endpoint}/{bucket}/registries/")
    assert "X-Amz-Expires=60" in url
    assert "X-Amz-Signature=" in url
    assert s3_server.secret_key not in url
    # moto does not check signatures, so a tampered URL cannot be shown refused here; that the
    # URL is signed with version 4 over its expiry is what AWS and compatible servers check.
