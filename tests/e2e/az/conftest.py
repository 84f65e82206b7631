"""berth for the Azure CLI: HTTPS on port 443 of a private loopback address, under a domain of
its own, with the owner signed in through ``az login -u/-p``.

Port 443 matters: MSAL's user-realm request before a password sign-in drops the port, and
``az acr check-health`` resolves the login server with its port. Each session picks a random
127.x.y.z address (so it never meets another server on 443) and a random ``az-<hex>.test``
domain, written to ``/etc/hosts`` for the session (CI runs as root), with a name for each
registry the tests create. ``berth tls init`` issues the certificate for that domain.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.az.azcli import Az, ensure_installed
from tests.e2e.hosts import hosts_entries
from tests.support.dockerd import DockerDaemon
from tests.support.tls_server import TlsBerthServer

OWNER_PASSWORD = "owner-Passw0rd-for-az"
REGISTRY_NAMES = ("named1", "repos1", "tokens1", "import1", "health1", "roles1")


class AzBerthServer(TlsBerthServer):
    """berth on ``<ip>:443`` serving ``https://<domain>``."""

    def __init__(self, data_dir: Path, ip: str, domain: str) -> None:
        super().__init__(
            data_dir,
            args=["--domain", domain],
            # SSL_CERT_FILE: berth itself trusts the test CA when it imports from another registry.
            env={
                "BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD,
                "SSL_CERT_FILE": str(data_dir / "tls" / "ca.crt"),
            },
            port=443,
        )
        self.ip = ip
        self.domain = domain

    @property
    def address(self) -> str:
        return f"{self.ip}:443"

    @property
    def url(self) -> str:
        return f"https://{self.domain}"

    @property
    def host(self) -> str:
        return self.domain

    def login_server(self, registry: str) -> str:
        return f"{registry}.{self.domain}"


@dataclass(frozen=True)
class AzService:
    server: AzBerthServer
    owner: str
    tenant_id: str

    @property
    def url(self) -> str:
        return self.server.url

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, verify=self.server.ssl_context(), timeout=30.0, trust_env=False
        )


@pytest.fixture(scope="session")
def az_executable() -> Path:
    return ensure_installed()


@pytest.fixture(scope="session")
def az_service(tmp_path_factory: pytest.TempPathFactory, az_executable: Path) -> Iterator[AzService]:
    ip = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
    domain = f"az-{uuid.uuid4().hex[:8]}.test"
    server = AzBerthServer(tmp_path_factory.mktemp("az") / "berth", ip, domain)
    server.init_tls(domain)
    names = [domain, *(f"{name}.{domain}" for name in REGISTRY_NAMES)]
    with hosts_entries(*names, address=ip), server:
        with server_client(server) as client:
            tenant = client.get("/organizations/v2.0/.well-known/openid-configuration").json()["issuer"]
        tenant_id = tenant.removeprefix(f"{server.url}/").split("/")[0]
        yield AzService(server, f"admin@{domain}", tenant_id)


def server_client(server: AzBerthServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, verify=server.ssl_context(), timeout=30.0, trust_env=False)


def new_az(az_executable: Path, service: AzService, home: Path, docker: DockerDaemon | None = None) -> Az:
    az = Az(az_executable, home, service.server.ca_file, dict(docker.env) if docker else {})
    az.register_cloud(f"{service.url}/")
    return az


@pytest.fixture(scope="session")
def owner_az(
    az_executable: Path,
    az_service: AzService,
    tmp_path_factory: pytest.TempPathFactory,
    dockerd: DockerDaemon,
) -> Az:
    """az with the owner signed in by user name and password (no ``--tenant``)."""
    az = new_az(az_executable, az_service, tmp_path_factory.mktemp("az-owner"), dockerd)
    az.run("login", "-u", az_service.owner, "-p", OWNER_PASSWORD)
    return az


@pytest.fixture
def fresh_az(az_executable: Path, az_service: AzService, tmp_path: Path, dockerd: DockerDaemon) -> Az:
    """az with the cloud registered and nobody signed in."""
    return new_az(az_executable, az_service, tmp_path / "az", dockerd)


@pytest.fixture(scope="session")
def subscription_id(owner_az: Az) -> str:
    account = owner_az.json("account", "show")
    subscription: str = account["id"]
    return subscription
