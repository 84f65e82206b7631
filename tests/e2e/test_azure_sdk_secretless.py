"""Secretless sign-ins with unmodified azure-identity against ``berth serve`` over HTTPS, then
azure-containerregistry with the tokens they yield (challenge → ``/oauth2/exchange`` → token).

- ``WorkloadIdentityCredential``: a Kubernetes-style service-account token in the file that
  ``AZURE_FEDERATED_TOKEN_FILE`` names, as AKS's workload identity webhook mounts it;
- ``ClientAssertionCredential``: a GitHub-Actions-style job token from a callback;
- ``CertificateCredential``: a certificate made by the CLI's ``--create-cert`` code, whose public
  part alone is registered with berth;
- ``ManagedIdentityCredential``: a host whose ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` come
  from a host credential of a user-assigned identity (App Service's protocol), and
  ``berth acr login --identity`` on the same kind of host.

The external issuer is :class:`tests.support.oidc_issuer.OidcIssuer` on loopback; the federated
credentials and certificates are arranged in the server's database (the API and CLI for them
have their own suites).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from azure.containerregistry import ContainerRegistryClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientAssertionCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from berth.cli.certificates import self_signed, write_private
from berth.directory.certificates import parse_certificate
from berth.metadata import federated as federated_rows
from berth.metadata import key_credentials as key_rows
from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.oidc_issuer import EXCHANGE_AUDIENCE, OidcIssuer
from tests.support.tls_server import TlsBerthServer

pytestmark = pytest.mark.e2e

AUDIENCE = "https://containerregistry.azure.net"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY = "team/app"
WORKLOAD_SUBJECT = "system:serviceaccount:shop:web"
PIPELINE_SUBJECT = "repo:acme/shop:ref:refs/heads/main"


@dataclass
class World:
    server: TlsBerthServer
    setup: AccessSetup
    cluster: OidcIssuer
    ci: OidcIssuer
    digest: str

    @property
    def ca(self) -> str:
        return str(self.server.ca_file)

    def trust(self, sp: ServicePrincipal, issuer: OidcIssuer, subject: str) -> None:
        self.setup.db.write_sync(
            federated_rows.create, sp.object_id, "fic", issuer.url, subject, (EXCHANGE_AUDIENCE,)
        )

    def registry_client(self, credential: TokenCredential) -> ContainerRegistryClient:
        return ContainerRegistryClient(
            self.server.url, credential, audience=AUDIENCE, connection_verify=self.ca
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("secretless") / "berth"
    server = TlsBerthServer(data_dir, env={"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd"})
    server.init_tls()
    setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
    pusher = setup.service_principal("pusher", role="AcrPush")
    with server, OidcIssuer("cluster") as cluster, OidcIssuer() as ci:
        digest = _push(server, pusher)
        yield World(server, setup, cluster, ci, digest)
    setup.close()


def _push(server: TlsBerthServer, pusher: ServicePrincipal) -> str:
    with httpx.Client(base_url=server.url, verify=server.ssl_context(), trust_env=False, timeout=30) as http:
        token = http.get(
            "/oauth2/token",
            params={"service": server.host, "scope": f"repository:{REPOSITORY}:pull,push"},
            auth=(pusher.app_id, pusher.secret),
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        digest = "sha256:" + hashlib.sha256(config).hexdigest()
        started = http.post(f"/v2/{REPOSITORY}/blobs/uploads/", headers=auth)
        assert http.put(started.headers["Location"], params={"digest": digest}, content=config, headers=auth)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
        put = http.put(
            f"/v2/{REPOSITORY}/manifests/v1",
            content=json.dumps(manifest).encode(),
            headers={**auth, "Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text
        return str(put.headers["Docker-Content-Digest"])


def test_workload_identity_credential_from_a_token_file(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sp = world.setup.service_principal("shop-web", role="AcrPull")
    world.trust(sp, world.cluster, WORKLOAD_SUBJECT)
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(world.cluster.kubernetes_token("shop", "web"))
    # What the AKS workload identity webhook injects into the pod:
    monkeypatch.setenv("AZURE_CLIENT_ID", sp.app_id)
    monkeypatch.setenv("AZURE_TENANT_ID", sp.tenant_id)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", world.server.url)
    credential = WorkloadIdentityCredential(disable_instance_discovery=True, connection_verify=world.ca)

    with credential, world.registry_client(credential) as client:
        assert list(client.list_repository_names()) == [REPOSITORY]
        assert client.get_manifest(REPOSITORY, "v1").digest == world.digest


def test_client_assertion_credential_with_a_ci_job_token(world: World) -> None:
    sp = world.setup.service_principal("shop-ci", role="AcrPull")
    world.trust(sp, world.ci, PIPELINE_SUBJECT)
    credential = ClientAssertionCredential(
        sp.tenant_id,
        sp.app_id,
        lambda: world.ci.github_token("acme/shop"),
        authority=world.server.url,
        disable_instance_discovery=True,
        connection_verify=world.ca,
    )

    with credential, world.registry_client(credential) as client:
        assert client.get_manifest(REPOSITORY, "v1").digest == world.digest


def test_a_job_of_another_branch_is_refused(world: World) -> None:
    sp = world.setup.service_principal("shop-release", role="AcrPull")
    world.trust(sp, world.ci, "repo:acme/shop:ref:refs/heads/release")
    credential = ClientAssertionCredential(
        sp.tenant_id,
        sp.app_id,
        lambda: world.ci.github_token("acme/shop", ref="refs/heads/feature"),
        authority=world.server.url,
        disable_instance_discovery=True,
        connection_verify=world.ca,
    )

    with credential, pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        credential.get_token(f"{AUDIENCE}/.default")


def test_certificate_credential(world: World, tmp_path: Path) -> None:
    sp = world.setup.service_principal("shop-cert", role="AcrPull")
    certificate, private = self_signed("shop-cert", 1)
    parsed = parse_certificate(certificate)
    world.setup.db.write_sync(
        key_rows.add,
        sp.object_id,
        "CN=berth",
        parsed.thumbprint_sha1,
        parsed.thumbprint_sha256,
        parsed.pem,
        parsed.not_after,
    )
    pem_file = write_private(certificate, private, tmp_path)
    credential = CertificateCredential(
        sp.tenant_id,
        sp.app_id,
        certificate_path=str(pem_file),
        authority=world.server.url,
        disable_instance_discovery=True,
        connection_verify=world.ca,
    )

    with credential, world.registry_client(credential) as client:
        assert client.get_manifest(REPOSITORY, "v1").digest == world.digest
    assert pem_file.stat().st_mode & 0o777 == 0o600
    other, other_key = self_signed("not-registered", 1)
    stranger = CertificateCredential(
        sp.tenant_id,
        sp.app_id,
        certificate_path=str(write_private(other, other_key, tmp_path)),
        authority=world.server.url,
        disable_instance_discovery=True,
        connection_verify=world.ca,
    )
    with stranger, pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        stranger.get_token(f"{AUDIENCE}/.default")


def _owner_token(world: World) -> str:
    with httpx.Client(base_url=world.server.url, verify=world.server.ssl_context(), trust_env=False) as http:
        answer = http.post(
            "/organizations/oauth2/v2.0/token",
            data={
                "grant_type": "password",
                "username": "admin@localhost",
                "password": "owner-Passw0rd",
                "scope": "https://management.azure.com/.default",
            },
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _managed_identity_on_host(world: World, name: str, host: str) -> tuple[dict[str, str], dict[str, str]]:
    """An identity with AcrPull on the default registry, and the environment of a host that may use it."""
    group = f"/subscriptions/{world.setup.tenancy.subscription_id}/resourceGroups/hosts"
    path = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    auth = {"Authorization": f"Bearer {_owner_token(world)}"}
    with httpx.Client(base_url=world.server.url, verify=world.server.ssl_context(), trust_env=False) as http:
        identity = http.put(path, json={}, headers=auth, params={"api-version": "2023-01-31"}).json()
        host_credential = http.post(
            f"{path}/hostCredentials", json={"host": host}, headers=auth, params={"api-version": "2023-01-31"}
        ).json()
    world.setup.assign(identity["properties"]["principalId"], "AcrPull", world.setup.registry_id("default"))
    env = {
        "IDENTITY_ENDPOINT": host_credential["identityEndpoint"],
        "IDENTITY_HEADER": host_credential["identityHeader"],
    }
    return identity["properties"], env


def test_managed_identity_credential_from_the_host_environment(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    properties, env = _managed_identity_on_host(world, "web-vm", "vm-1")
    assert env["IDENTITY_ENDPOINT"] == f"{world.server.url}/msi/token"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.ca)

    credential = ManagedIdentityCredential(client_id=properties["clientId"])
    with credential, ContainerRegistryClient(world.server.url, credential, audience=AUDIENCE) as client:
        assert client.get_manifest(REPOSITORY, "v1").digest == world.digest
    other = ManagedIdentityCredential(client_id=str(uuid.uuid4()))
    with other, pytest.raises(ClientAuthenticationError):
        other.get_token(f"{AUDIENCE}/.default")


def test_berth_acr_login_with_the_identity(world: World, tmp_path: Path) -> None:
    properties, env = _managed_identity_on_host(world, "build-vm", "vm-2")
    world.setup.assign(properties["principalId"], "Reader", world.setup.registry_id("default"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "IDENTITY_"))}
    environment.update(env, REQUESTS_CA_BUNDLE=world.ca, BERTH_CONFIG_DIR=str(tmp_path / "config"))
    command = [sys.executable, "-m", "berth", "acr", "login", "-n", "default", "--identity", "--expose-token"]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    login = json.loads(result.stdout)
    assert login["username"] == "00000000-0000-0000-0000-000000000000"
    assert login["loginServer"] == world.server.host  # looked up with the identity (it holds Reader)
    with httpx.Client(base_url=world.server.url, verify=world.server.ssl_context(), trust_env=False) as http:
        pull = http.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": world.server.host,
                "scope": f"repository:{REPOSITORY}:pull",
                "refresh_token": login["refreshToken"],
            },
        )
        token = pull.json()["access_token"]
        manifest = http.get(
            f"/v2/{REPOSITORY}/manifests/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": OCI_MANIFEST},
        )
    assert manifest.headers["Docker-Content-Digest"] == world.digest
