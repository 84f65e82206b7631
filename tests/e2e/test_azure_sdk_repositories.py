"""The unmodified ``azure.containerregistry.ContainerRegistryClient`` on berth's ``/acr/v1/`` API.

``berth serve`` runs over HTTPS (``berth tls init``'s local CA; the SDK refuses bearer auth over
plain HTTP) with anonymous pull on. Two service principals sign in at berth's directory through
azure-identity's ``ClientSecretCredential``: ``editor`` holds AcrPush and AcrDelete (push,
metadata read and write, delete), ``reader`` holds AcrPull. A third client is anonymous
(``credential=None``). Every test seeds its own repository through the SDK itself
(``upload_blob`` and ``set_manifest``), so the tests do not depend on one another.

Each SDK call answers the challenge afresh (exchange → token → request), so these tests also
show that every ``/acr/v1/`` route challenges for the scope the SDK can satisfy.
"""

from __future__ import annotations

import gc
import io
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from azure.containerregistry import (
    ArtifactArchitecture,
    ArtifactManifestOrder,
    ArtifactOperatingSystem,
    ArtifactTagOrder,
    ContainerRegistryClient,
    RepositoryProperties,
)
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential

from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.tls_server import TlsBerthServer

pytestmark = pytest.mark.e2e

AUDIENCE = "https://containerregistry.azure.net"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class Registry:
    server: TlsBerthServer
    setup: AccessSetup
    editor: ServicePrincipal
    reader: ServicePrincipal

    @contextmanager
    def client(self, sp: ServicePrincipal | None) -> Iterator[ContainerRegistryClient]:
        """A client signed in as ``sp`` through the directory, or anonymous for None.

        The credential is closed with the client: its open connection would otherwise hold
        the server's graceful shutdown for its full drain time.
        """
        ca = str(self.server.ca_file)
        with ExitStack() as stack:
            credential = None
            if sp is not None:
                credential = stack.enter_context(
                    ClientSecretCredential(
                        sp.tenant_id,
                        sp.app_id,
                        sp.secret,
                        authority=self.server.url,
                        disable_instance_discovery=True,
                        connection_verify=ca,
                    )
                )
            yield stack.enter_context(
                ContainerRegistryClient(self.server.url, credential, audience=AUDIENCE, connection_verify=ca)
            )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    data_dir = tmp_path_factory.mktemp("sdk-repositories") / "berth"
    server = TlsBerthServer(
        data_dir,
        database_url=f"sqlite:///{data_dir.parent / 'metadata.db'}",
        # Anonymous callers list the catalog only when the operator opts in; this suite does.
        env={"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd", "BERTH_ANONYMOUS_PULL_LISTS_CATALOG": "true"},
    )
    server.init_tls()
    setup = AccessSetup.for_database(f"sqlite:///{data_dir.parent / 'metadata.db'}")
    setup.set_anonymous_pull(True)
    editor = setup.service_principal("sdk-editor", role="AcrPush")
    setup.assign(editor.object_id, "AcrDelete", setup.registry_id())
    reader = setup.service_principal("sdk-reader", role="AcrPull")
    with server:
        yield Registry(server, setup, editor, reader)
        # An SDK call that raised keeps its response (and so its connection) in a reference
        # cycle with the traceback; collect them so the server's graceful stop does not wait.
        gc.collect()
    setup.close()


@pytest.fixture(scope="module")
def editor(registry: Registry) -> Iterator[ContainerRegistryClient]:
    with registry.client(registry.editor) as client:
        yield client


@pytest.fixture(scope="module")
def reader(registry: Registry) -> Iterator[ContainerRegistryClient]:
    with registry.client(registry.reader) as client:
        yield client


@pytest.fixture(scope="module")
def anonymous(registry: Registry) -> Iterator[ContainerRegistryClient]:
    with registry.client(None) as client:
        yield client


def _blobs(seed: str) -> tuple[bytes, bytes]:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    return config, f"layer of {seed}".encode()


def push(client: ContainerRegistryClient, repository: str, tag: str | None, seed: str) -> str:
    """An amd64/linux image pushed with the SDK; returns its manifest digest."""
    config, layer = _blobs(seed)
    config_digest, config_size = client.upload_blob(repository, io.BytesIO(config))
    layer_digest, layer_size = client.upload_blob(repository, io.BytesIO(layer))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer_size}],
    }
    digest: str = client.set_manifest(repository, manifest, tag=tag)
    return digest


def retag(client: ContainerRegistryClient, repository: str, digest: str, tag: str) -> None:
    """Another tag on an existing manifest: the SDK pulls it and puts it back under ``tag``."""
    manifest = client.get_manifest(repository, digest).manifest
    assert manifest is not None
    assert client.set_manifest(repository, manifest, tag=tag) == digest


def _aware_and_recent(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 600


# --- listing ---------------------------------------------------------------------------------


def test_lists_repositories_and_tags_across_pages(editor: ContainerRegistryClient) -> None:
    repository = "sdk/listing"
    digests = {}
    for name in ("v3", "v1", "v5", "v2", "v4"):
        digests[name] = push(editor, repository, name, seed=f"listing-{name}")
        time.sleep(0.01)

    assert repository in list(editor.list_repository_names())
    assert repository in list(editor.list_repository_names(results_per_page=1))

    tags = list(editor.list_tag_properties(repository))
    assert [t.name for t in tags] == ["v1", "v2", "v3", "v4", "v5"]
    for tag in tags:
        assert tag.digest == digests[tag.name]
        assert (tag.can_delete, tag.can_write, tag.can_read, tag.can_list) == (True, True, True, True)
        _aware_and_recent(tag.created_on)
        _aware_and_recent(tag.last_updated_on)

    pages = [
        [t.name for t in page]
        for page in editor.list_tag_properties(repository, results_per_page=2).by_page()
    ]
    assert pages == [["v1", "v2"], ["v3", "v4"], ["v5"]]

    newest_first = editor.list_tag_properties(
        repository, order_by=ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING, results_per_page=2
    )
    assert [t.name for t in newest_first] == ["v4", "v2", "v5", "v1", "v3"]
    oldest_first = editor.list_tag_properties(repository, order_by=ArtifactTagOrder.LAST_UPDATED_ON_ASCENDING)
    assert [t.name for t in oldest_first] == ["v3", "v1", "v5", "v2", "v4"]


def test_lists_manifests_with_their_tags_across_pages(editor: ContainerRegistryClient) -> None:
    repository = "sdk/manifests"
    first = push(editor, repository, "one", seed="manifests-1")
    time.sleep(0.01)
    second = push(editor, repository, None, seed="manifests-2")
    time.sleep(0.01)
    third = push(editor, repository, "three", seed="manifests-3")
    retag(editor, repository, first, "uno")

    manifests = list(editor.list_manifest_properties(repository, results_per_page=2))
    assert sorted(m.digest for m in manifests) == sorted([first, second, third])
    by_digest = {m.digest: m for m in manifests}
    seeds = {first: "manifests-1", second: "manifests-2", third: "manifests-3"}
    assert sorted(by_digest[first].tags) == ["one", "uno"]
    assert by_digest[second].tags == []
    assert by_digest[third].tags == ["three"]
    for manifest in manifests:
        assert manifest.architecture == ArtifactArchitecture.AMD64
        assert manifest.operating_system == ArtifactOperatingSystem.LINUX
        assert manifest.size_in_bytes == sum(len(blob) for blob in _blobs(seeds[manifest.digest]))
        assert manifest.repository_name == repository
        _aware_and_recent(manifest.created_on)

    newest = editor.list_manifest_properties(
        repository, order_by=ArtifactManifestOrder.LAST_UPDATED_ON_DESCENDING
    )
    assert [m.digest for m in newest] == [third, second, first]


# --- reading properties ----------------------------------------------------------------------


def test_reads_repository_tag_and_manifest_properties(
    registry: Registry, editor: ContainerRegistryClient
) -> None:
    repository = "sdk/props"
    digest = push(editor, repository, "v1", seed="props")
    push(editor, repository, "v2", seed="props-2")

    urls: list[str] = []
    repo = editor.get_repository_properties(
        repository, raw_request_hook=lambda request: urls.append(request.http_request.url)
    )
    assert repo.name == repository
    # The SDK sends the name %2F-encoded; berth answers for the decoded name.
    assert urls[-1].startswith(f"{registry.server.url}/acr/v1/sdk%2Fprops?")
    assert (repo.manifest_count, repo.tag_count) == (2, 2)
    assert (repo.can_delete, repo.can_write, repo.can_read, repo.can_list) == (True, True, True, True)
    _aware_and_recent(repo.created_on)
    assert repo.last_updated_on >= repo.created_on

    tag = editor.get_tag_properties(repository, "v1")
    # (ArtifactTagProperties.repository_name is always None in SDK 1.2.0: the client passes the
    # name as ``repository=`` but the model reads ``repository_name``; nothing on the wire.)
    assert (tag.name, tag.digest) == ("v1", digest)
    assert tag.can_write is True

    by_tag = editor.get_manifest_properties(repository, "v1")
    by_digest = editor.get_manifest_properties(repository, digest)
    for manifest in (by_tag, by_digest):
        assert manifest.digest == digest
        assert manifest.tags == ["v1"]
        assert manifest.architecture == ArtifactArchitecture.AMD64
        assert manifest.operating_system == ArtifactOperatingSystem.LINUX
        assert manifest.can_read is True
    assert by_tag.created_on == by_digest.created_on


def test_missing_things_are_resource_not_found(editor: ContainerRegistryClient) -> None:
    push(editor, "sdk/missing", "v1", seed="missing")

    with pytest.raises(ResourceNotFoundError):
        editor.get_repository_properties("sdk/nothing-here")
    with pytest.raises(ResourceNotFoundError):
        editor.get_tag_properties("sdk/missing", "nope")
    with pytest.raises(ResourceNotFoundError):
        editor.get_manifest_properties("sdk/missing", "sha256:" + "0" * 64)
    with pytest.raises(ResourceNotFoundError):
        list(editor.list_tag_properties("sdk/nothing-here"))


# --- updating properties ---------------------------------------------------------------------


def test_updates_repository_properties_and_the_locks_take_effect(editor: ContainerRegistryClient) -> None:
    repository = "sdk/locked"
    push(editor, repository, "v1", seed="locked")

    updated = editor.update_repository_properties(repository, can_write=False, can_delete=False)
    assert (updated.can_write, updated.can_delete, updated.can_read, updated.can_list) == (
        False,
        False,
        True,
        True,
    )
    assert updated.name == repository

    with pytest.raises(HttpResponseError) as refused:
        push(editor, repository, "v2", seed="locked-2")
    assert refused.value.status_code == 403
    assert "writeEnabled" in str(refused.value)
    with pytest.raises(HttpResponseError) as refused:
        editor.delete_repository(repository)
    assert refused.value.status_code == 403

    # The other overload: a properties object, as read and changed by the caller.
    properties: RepositoryProperties = editor.get_repository_properties(repository)
    properties.can_write = True
    properties.can_delete = True
    properties.can_list = False
    restored = editor.update_repository_properties(repository, properties)
    assert (restored.can_write, restored.can_delete, restored.can_list) == (True, True, False)
    assert repository not in list(editor.list_repository_names())
    push(editor, repository, "v2", seed="locked-2")
    assert editor.get_repository_properties(repository).tag_count == 2


def test_updates_tag_properties_and_the_locks_take_effect(editor: ContainerRegistryClient) -> None:
    repository = "sdk/tag-locks"
    push(editor, repository, "v1", seed="tag-locks")
    push(editor, repository, "v2", seed="tag-locks-2")

    updated = editor.update_tag_properties(repository, "v1", can_delete=False, can_list=False)
    assert (updated.can_delete, updated.can_list, updated.can_write) == (False, False, True)
    assert updated.name == "v1"

    assert [t.name for t in editor.list_tag_properties(repository)] == ["v2"]
    with pytest.raises(HttpResponseError) as refused:
        editor.delete_tag(repository, "v1")
    assert refused.value.status_code == 403
    assert editor.get_tag_properties(repository, "v1").can_delete is False

    editor.update_tag_properties(repository, "v1", can_read=False)
    with pytest.raises(HttpResponseError) as refused:
        editor.get_manifest(repository, "v1")
    assert refused.value.status_code == 403

    properties = editor.get_tag_properties(repository, "v1")
    properties.can_delete = properties.can_list = properties.can_read = True
    editor.update_tag_properties(repository, "v1", properties)
    assert [t.name for t in editor.list_tag_properties(repository)] == ["v1", "v2"]
    assert editor.get_manifest(repository, "v1").digest == editor.get_tag_properties(repository, "v1").digest


def test_updates_manifest_properties_by_tag_or_digest(editor: ContainerRegistryClient) -> None:
    repository = "sdk/manifest-locks"
    digest = push(editor, repository, "v1", seed="manifest-locks")
    other = push(editor, repository, "v2", seed="manifest-locks-2")

    updated = editor.update_manifest_properties(repository, "v1", can_list=False, can_read=False)
    assert updated.digest == digest
    assert (updated.can_list, updated.can_read, updated.can_write) == (False, False, True)

    assert [m.digest for m in editor.list_manifest_properties(repository)] == [other]
    with pytest.raises(HttpResponseError) as refused:
        editor.get_manifest(repository, digest)
    assert refused.value.status_code == 403

    editor.update_manifest_properties(repository, digest, can_delete=False, can_list=True, can_read=True)
    with pytest.raises(HttpResponseError) as refused:
        editor.delete_manifest(repository, digest)
    assert refused.value.status_code == 403
    assert editor.get_manifest(repository, digest).digest == digest
    assert editor.get_manifest_properties(repository, digest).can_delete is False


def test_acrpull_reads_but_cannot_update_or_delete(
    editor: ContainerRegistryClient, reader: ContainerRegistryClient
) -> None:
    repository = "sdk/read-only"
    push(editor, repository, "v1", seed="read-only")

    assert [t.name for t in reader.list_tag_properties(repository)] == ["v1"]
    assert reader.get_repository_properties(repository).tag_count == 1
    with pytest.raises(ClientAuthenticationError):
        reader.update_repository_properties(repository, can_write=False)
    with pytest.raises(ClientAuthenticationError):
        reader.update_tag_properties(repository, "v1", can_delete=False)
    with pytest.raises(ClientAuthenticationError):
        reader.delete_tag(repository, "v1")
    with pytest.raises(ClientAuthenticationError):
        reader.delete_repository(repository)
    assert editor.get_repository_properties(repository).can_write is True


# --- deleting --------------------------------------------------------------------------------


def test_deletes_tags_manifests_and_repositories(editor: ContainerRegistryClient) -> None:
    repository = "sdk/deletion"
    first = push(editor, repository, "v1", seed="deletion-1")
    retag(editor, repository, first, "also-v1")
    second = push(editor, repository, "v2", seed="deletion-2")
    third = push(editor, repository, "v3", seed="deletion-3")

    editor.delete_tag(repository, "also-v1")
    with pytest.raises(ResourceNotFoundError):
        editor.get_tag_properties(repository, "also-v1")
    assert editor.get_manifest_properties(repository, first).tags == ["v1"]
    editor.delete_tag(repository, "also-v1")  # a 404 is not an error for delete_tag

    editor.delete_manifest(repository, second)
    with pytest.raises(ResourceNotFoundError):
        editor.get_manifest_properties(repository, second)
    with pytest.raises(ResourceNotFoundError):
        editor.get_tag_properties(repository, "v2")

    editor.delete_manifest(repository, "v3")  # by tag: the SDK resolves it to the digest first
    with pytest.raises(ResourceNotFoundError):
        editor.get_manifest_properties(repository, third)

    assert editor.get_repository_properties(repository).manifest_count == 1
    editor.delete_repository(repository)
    assert repository not in list(editor.list_repository_names())
    with pytest.raises(ResourceNotFoundError):
        editor.get_repository_properties(repository)
    editor.delete_repository(repository)  # a 404 is not an error for delete_repository


# --- anonymous -------------------------------------------------------------------------------


def test_anonymous_client_reads_but_cannot_change(
    editor: ContainerRegistryClient, anonymous: ContainerRegistryClient
) -> None:
    repository = "sdk/public"
    digest = push(editor, repository, "v1", seed="public")
    push(editor, repository, "v2", seed="public-2")

    assert repository in list(anonymous.list_repository_names())
    assert [t.name for t in anonymous.list_tag_properties(repository, results_per_page=1)] == ["v1", "v2"]
    assert anonymous.get_repository_properties(repository).manifest_count == 2
    assert anonymous.get_tag_properties(repository, "v1").digest == digest
    assert anonymous.get_manifest_properties(repository, "v1").digest == digest
    assert len(list(anonymous.list_manifest_properties(repository))) == 2

    with pytest.raises(ClientAuthenticationError):
        anonymous.update_repository_properties(repository, can_list=False)
    with pytest.raises(ClientAuthenticationError):
        anonymous.update_manifest_properties(repository, digest, can_delete=False)
    with pytest.raises(ClientAuthenticationError):
        anonymous.delete_tag(repository, "v1")
    with pytest.raises(ClientAuthenticationError):
        anonymous.delete_repository(repository)
    assert editor.get_repository_properties(repository).tag_count == 2
