"""The Azure Blob Storage driver against Azurite (Microsoft's emulator, a separate process
on loopback): the shared driver suite, with and without server-side copies at commit."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import ContainerClient

from berth.config import ConfigError, load_settings
from berth.storage import StorageDriver
from berth.storage.azure import AzureDriver
from berth.storage.configured import azure_account_name, build_storage
from tests.support.objectstores import AzureServer, new_container
from tests.unit.storage.driver_suite import (
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
def container(azure_server: AzureServer) -> Iterator[ContainerClient]:
    with new_container(azure_server) as client:
        yield client


class TestAzureDriver(DriverSuite):
    """Commit copies the parts server-side (Put Block From URL with a short-lived SAS)."""

    @pytest.fixture
    def driver(self, container: ContainerClient, azure_server: AzureServer) -> StorageDriver:
        return AzureDriver(container, prefix="berth", account_key=azure_server.key)


class TestAzureDriverStreamingCommit(DriverSuite):
    """Without the account key (a token credential), commit streams the parts through berth."""

    @pytest.fixture
    def driver(self, container: ContainerClient) -> StorageDriver:
        return AzureDriver(container)


def test_layout_under_the_prefix(container: ContainerClient, azure_server: AzureServer) -> None:
    store = AzureDriver(container, prefix="/team/berth/", account_key=azure_server.key).registry(REGISTRY_A)
    digest = store_blob(store, b"laid out")

    assert sorted(b.name for b in container.list_blobs()) == [
        f"team/berth/registries/{REGISTRY_A}/blobs/sha256/{digest.split(':')[1]}",
        f"team/berth/registries/{REGISTRY_A}/uploads/{UPLOAD}/p0",
    ]
    assert (
        container.get_blob_client(f"team/berth/registries/{REGISTRY_A}/blobs/sha256/{digest.split(':')[1]}")
        .get_blob_properties()
        .blob_type
        == "BlockBlob"
    )
    assert store.local_path(digest) is None


def test_a_part_larger_than_a_block_is_staged_in_blocks(
    container: ContainerClient, azure_server: AzureServer
) -> None:
    store = AzureDriver(container, account_key=azure_server.key).registry(REGISTRY_A)
    data = bytes(range(256)) * 4096 * 9 + b"end"  # 9 MiB and a bit: three staged blocks
    write_part(store, UPLOAD, "p0", data[:5_000_000], data[5_000_000:])
    digest = digest_of(data)

    part = container.get_blob_client(f"registries/{REGISTRY_A}/uploads/{UPLOAD}/p0")
    committed, _ = part.get_block_list("committed")
    store.commit_upload(UPLOAD, ["p0"], digest)

    assert len(committed) == 3
    assert joined(store.read(digest)) == data


def test_the_settings_build_an_azure_driver_with_the_key_from_a_file(
    container: ContainerClient, azure_server: AzureServer, tmp_path: Path
) -> None:
    key_file = tmp_path / "azure-key"
    key_file.write_text(azure_server.key + "\n")
    settings = load_settings(
        overrides={
            "storage_driver": "azure",
            "azure_account_url": azure_server.endpoint,
            "azure_container": container.container_name,
            "azure_account_key_file": key_file,
        },
        environ={},
    )

    driver = build_storage(settings, environ={})
    store = driver.registry(REGISTRY_A)
    write_part(store, UPLOAD, "a", b"through ")
    write_part(store, UPLOAD, "b", b"the settings")
    digest = digest_of(b"through the settings")
    store.commit_upload(UPLOAD, ["a", "b"], digest)

    assert isinstance(driver, AzureDriver)
    assert azure_account_name(settings) == "devstoreaccount1"
    assert joined(store.read(digest)) == b"through the settings"


def test_two_commits_of_one_digest_at_once_both_succeed(
    container: ContainerClient, azure_server: AzureServer
) -> None:
    """A Put Block List discards the other committer's staged blocks: the loser restages."""
    store = AzureDriver(container, account_key=azure_server.key).registry(REGISTRY_A)
    data = bytes(range(256)) * 4096 * 2
    digest = digest_of(data)
    sessions = [str(uuid.uuid4()) for _ in range(4)]
    for session in sessions:
        write_part(store, session, "a", data[:1000])
        write_part(store, session, "b", data[1000:])
    errors: list[BaseException] = []

    def commit(session: str) -> None:
        try:
            store.commit_upload(session, ["a", "b"], digest)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=commit, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert joined(store.read(digest)) == data


def test_the_account_key_and_sas_signatures_are_never_logged(
    container: ContainerClient, azure_server: AzureServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = AzureDriver(container, account_key=azure_server.key).registry(REGISTRY_A)
    with caplog.at_level(logging.DEBUG):
        write_part(store, UPLOAD, "a", b"logged ")
        write_part(store, UPLOAD, "b", b"or not")
        store.commit_upload(UPLOAD, ["a", "b"], digest_of(b"logged or not"))

    assert caplog.records  # the SDK did log at debug level
    assert azure_server.key not in caplog.text
    assert re.search(r"sig=(?!\*)", caplog.text) is None


def test_a_redirect_url_is_a_read_only_sas_that_downloads_the_blob(
    container: ContainerClient, azure_server: AzureServer
) -> None:
    store = AzureDriver(container, account_key=azure_server.key).registry(REGISTRY_A)

    url = assert_downloads(store.redirect_url(store_blob(store, b"signed bytes"), 60), b"signed bytes")

    assert url.startswith(f"{azure_server.endpoint}/{container.container_name}/registries/")
    assert "sp=r&" in url
    assert azure_server.key not in url
    with httpx.Client(trust_env=False) as http:
        assert http.delete(url).status_code == 403  # read only
        assert http.get(url.replace("sp=r&", "sp=rd&")).status_code == 403  # the permissions are signed


def test_without_the_account_key_there_is_no_redirect_url(container: ContainerClient) -> None:
    store = AzureDriver(container).registry(REGISTRY_A)

    assert store.redirect_url(store_blob(store, b"proxied"), 60) is None


def test_redirects_without_the_account_key_are_refused_at_startup(azure_server: AzureServer) -> None:
    """Only the account key signs a SAS here: a token credential with redirects on is an error."""
    settings = load_settings(
        overrides={
            "storage_driver": "azure",
            "azure_account_url": azure_server.endpoint,
            "azure_container": "any",
            "storage_redirect": True,
        },
        environ={},
    )

    with pytest.raises(
        ConfigError, match="storage_redirect: the azure driver signs SAS URLs with the account key"
    ):
        build_storage(settings, environ={})
