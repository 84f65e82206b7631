"""Unmodified azure-identity and azure-containerregistry against ``berth serve`` over HTTPS.

The server gets its certificate from the real ``berth tls init`` and serves HTTPS because the
files are in ``<data_dir>/tls/``. ``ClientSecretCredential`` signs a service principal in at
berth's directory (``authority=https://localhost:PORT``, no instance discovery), and
``ContainerRegistryClient`` walks the challenge → ``/oauth2/exchange`` → ``/oauth2/token`` dance
on every call. Content is pushed first with httpx through the docker token flow.

What the SDK lists here: repositories (``GET /acr/v1/_catalog``, paged through ``Link``). Tags are
not listed: the SDK's only tag listing, ``list_tag_properties``, calls ``/acr/v1/<name>/_tags``,
which comes with the rest of ``/acr/v1``; the SDK has no ``/v2/<name>/tags/list`` call. Instead,
each tag is read through the OCI path the SDK does use, ``get_manifest(repository, tag)``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
import pytest
from azure.containerregistry import ContainerRegistryClient
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential

from berth.access.tokens import ACCESS_TOKEN_SECONDS
from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.tls_server import TlsBerthServer

pytestmark = pytest.mark.e2e

AUDIENCE = "https://containerregistry.azure.net"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_T = TypeVar("_T")
REPOSITORIES = ["hello-world", "library/busybox", "team/app"]


class World:
    """The server, its state set-up handle and two service principals."""

    def __init__(
        self, server: TlsBerthServer, setup: AccessSetup, puller: ServicePrincipal, pusher: ServicePrincipal
    ):
        self.server = server
        self.setup = setup
        self.puller = puller
        self.pusher = pusher
        self.digests: dict[str, str] = {}

    @property
    def ca(self) -> str:
        return str(self.server.ca_file)

    def credential(self, sp: ServicePrincipal) -> ClientSecretCredential:
        return ClientSecretCredential(
            sp.tenant_id,
            sp.app_id,
            sp.secret,
            authority=self.server.url,
            disable_instance_discovery=True,
            connection_verify=self.ca,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("sdk") / "berth"
    server = TlsBerthServer(data_dir, env={"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd"})
    printed = server.init_tls()
    assert f"berth serve --data-dir {data_dir}" in printed
    setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
    puller = setup.service_principal("sdk-puller", role="AcrPull")
    pusher = setup.service_principal("sdk-pusher", role="AcrPush")
    with server:
        assert "TLS certificate" in server.log()
        world = World(server, setup, puller, pusher)
        push_content(world)
        yield world
    setup.close()


def push_content(world: World) -> None:
    """docker's flow with httpx: challenge → Basic to the realm → bearer uploads."""
    server = world.server
    with httpx.Client(base_url=server.url, verify=server.ssl_context(), trust_env=False, timeout=30) as http:
        challenge = http.get("/v2/")
        assert challenge.status_code == 401
        header = challenge.headers["WWW-Authenticate"]
        assert header == f'Bearer realm="https://{server.host}/oauth2/token",service="{server.host}"'
        for repository in REPOSITORIES:
            token = http.get(
                f"https://{server.host}/oauth2/token",
                params={"service": server.host, "scope": f"repository:{repository}:pull,push"},
                auth=(world.pusher.app_id, world.pusher.secret),
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            config = json.dumps({"architecture": "amd64", "os": "linux", "repo": repository}).encode()
            layer = f"layer of {repository}".encode()
            for blob in (config, layer):
                digest = "sha256:" + hashlib.sha256(blob).hexdigest()
                started = http.post(f"/v2/{repository}/blobs/uploads/", headers=auth)
                assert started.status_code == 202, started.text
                done = http.put(
                    started.headers["Location"], params={"digest": digest}, content=blob, headers=auth
                )
                assert done.status_code == 201, done.text
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": descriptor("application/vnd.oci.image.config.v1+json", config),
                    "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
                }
            ).encode()
            put = http.put(
                f"/v2/{repository}/manifests/v1",
                content=manifest,
                headers={**auth, "Content-Type": OCI_MANIFEST},
            )
            assert put.status_code == 201, put.text
            world.digests[repository] = put.headers["Docker-Content-Digest"]


def descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def test_client_secret_credential_gets_a_directory_token(world: World) -> None:
    credential = world.credential(world.puller)
    token = credential.get_token(f"{AUDIENCE}/.default")

    claims = json.loads(_b64(token.token.split(".")[1]))
    assert claims["tid"] == world.setup.tenant_id
    assert claims["appid"] == world.puller.app_id
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == f"{world.server.url}/{world.setup.tenant_id}/v2.0"
    assert 0 < token.expires_on - time.time() <= 3600


def test_container_registry_client_lists_repositories(world: World) -> None:
    client = ContainerRegistryClient(
        world.server.url, world.credential(world.puller), audience=AUDIENCE, connection_verify=world.ca
    )
    with client:
        assert list(client.list_repository_names()) == REPOSITORIES
        # One per page: the SDK follows berth's Link header for every next page.
        assert list(client.list_repository_names(results_per_page=1)) == REPOSITORIES


def test_tags_resolve_through_the_oci_path(world: World) -> None:
    client = ContainerRegistryClient(
        world.server.url, world.credential(world.puller), audience=AUDIENCE, connection_verify=world.ca
    )
    with client:
        for repository in REPOSITORIES:
            result = client.get_manifest(repository, "v1")
            assert result.digest == world.digests[repository]
            assert result.media_type == OCI_MANIFEST
            assert result.manifest is not None
            layer = result.manifest["layers"][0]
            downloaded = b"".join(client.download_blob(repository, layer["digest"]))
            assert downloaded == f"layer of {repository}".encode()


def test_acrpull_cannot_push_through_the_sdk(world: World) -> None:
    client = ContainerRegistryClient(
        world.server.url, world.credential(world.puller), audience=AUDIENCE, connection_verify=world.ca
    )
    with client, pytest.raises(ClientAuthenticationError):
        client.upload_blob("hello-world", io.BytesIO(b"not allowed"))


def test_requests_ca_bundle_is_enough(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/tls.md: REQUESTS_CA_BUNDLE instead of connection_verify, for both packages."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.ca)
    credential = ClientSecretCredential(
        world.pusher.tenant_id,
        world.pusher.app_id,
        world.pusher.secret,
        authority=world.server.url,
        disable_instance_discovery=True,
    )
    with ContainerRegistryClient(world.server.url, credential, audience=AUDIENCE) as client:
        assert list(client.list_repository_names()) == REPOSITORIES


def test_without_trusting_the_ca_tls_fails(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    credential = ClientSecretCredential(
        world.puller.tenant_id,
        world.puller.app_id,
        world.puller.secret,
        authority=world.server.url,
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError, match="CERTIFICATE_VERIFY_FAILED"):
        credential.get_token(f"{AUDIENCE}/.default")


def test_anonymous_client_pulls_but_does_not_list_when_anonymous_pull_is_on(world: World) -> None:
    """Anonymous pull is pull only; the catalog needs credentials (docs/security.md, access)."""
    with ContainerRegistryClient(
        world.server.url, audience=AUDIENCE, connection_verify=world.ca
    ) as anonymous:
        with pytest.raises(ClientAuthenticationError):
            anonymous.get_manifest("team/app", "v1")

        world.setup.set_anonymous_pull(True)
        try:
            pulled = _eventually(lambda: anonymous.get_manifest("team/app", "v1"))
            assert pulled.digest == world.digests["team/app"]
            with pytest.raises(ClientAuthenticationError):
                list(anonymous.list_repository_names())
            with pytest.raises(ClientAuthenticationError):
                anonymous.upload_blob("team/app", io.BytesIO(b"anonymous write"))
        finally:
            world.setup.set_anonymous_pull(False)


def test_sdk_access_tokens_last_75_minutes(world: World) -> None:
    """The token the SDK obtains (exchange → refresh → access) is an ACR access token."""
    credential = world.credential(world.puller)
    directory_token = credential.get_token(f"{AUDIENCE}/.default").token
    with httpx.Client(base_url=world.server.url, verify=world.server.ssl_context(), trust_env=False) as http:
        refresh = http.post(
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": world.server.host,
                "access_token": directory_token,
            },
        ).json()["refresh_token"]
        access = http.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": world.server.host,
                "scope": "registry:catalog:*",
                "refresh_token": refresh,
            },
        ).json()["access_token"]
    claims = json.loads(_b64(access.split(".")[1]))
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_SECONDS
    assert claims["access"] == [{"type": "registry", "name": "catalog", "actions": ["*"]}]


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _eventually(fn: Callable[[], _T], seconds: float = 5.0) -> _T:
    """Registry properties reach a running server within its 1 s registry cache."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except (ClientAuthenticationError, HttpResponseError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
