"""Two ``berth serve`` processes with authentication on, for the client suites that run every
workflow with the admin user and a service principal, over HTTP and over HTTPS.

:func:`serve_endpoints` starts both (the HTTPS one with ``berth tls init``'s local CA), enables
the default registry's admin user and creates a service principal holding AcrPush and
AcrDelete on each. The e2e ``endpoints`` fixture shares them across the session: every test uses
its own repository names.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.server import BerthServer
from tests.support.tls_server import TlsBerthServer

OWNER_PASSWORD = "owner-Passw0rd"
SCHEMES = ("http", "https")
IDENTITIES = ("admin", "sp")


@dataclass(frozen=True)
class Endpoint:
    server: BerthServer
    scheme: str
    setup: AccessSetup
    admin: tuple[str, str]
    sp: ServicePrincipal

    @property
    def host(self) -> str:
        """What clients type: ``127.0.0.1:PORT`` over HTTP, ``localhost:PORT`` over HTTPS."""
        if isinstance(self.server, TlsBerthServer):
            return self.server.host
        return self.server.address

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca_file(self) -> Path | None:
        return self.server.ca_file if isinstance(self.server, TlsBerthServer) else None

    def verify(self) -> ssl.SSLContext | bool:
        """For httpx: trust the local CA over HTTPS."""
        return self.server.ssl_context() if isinstance(self.server, TlsBerthServer) else True

    def refresh_token(self) -> str:
        """An ACR refresh token for the service principal, as ``az acr login --expose-token``
        gets one: a directory token exchanged at ``/oauth2/exchange``."""
        sp = self.sp
        with httpx.Client(base_url=self.url, verify=self.verify()) as client:
            directory = client.post(
                f"/{sp.tenant_id}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": sp.app_id,
                    "client_secret": sp.secret,
                    "scope": "https://containerregistry.azure.net/.default",
                },
            ).raise_for_status()
            exchanged = client.post(
                "/oauth2/exchange",
                data={
                    "grant_type": "access_token",
                    "service": self.host,
                    "access_token": directory.json()["access_token"],
                },
            ).raise_for_status()
        token: str = exchanged.json()["refresh_token"]
        return token

    def credentials(self, identity: str) -> tuple[str, str]:
        """``(username, password)`` of the admin user or the service principal."""
        return self.admin if identity == "admin" else (self.sp.app_id, self.sp.secret)


@contextmanager
def serve_endpoints(root: Path) -> Iterator[dict[str, Endpoint]]:
    with ExitStack() as stack:
        endpoints: dict[str, Endpoint] = {}
        for scheme in SCHEMES:
            data_dir = root / scheme / "berth"
            env = {"BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD}
            server = (
                TlsBerthServer(data_dir, env=env) if scheme == "https" else BerthServer(data_dir, env=env)
            )
            stack.enter_context(server)
            setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
            stack.callback(setup.close)
            password, _ = setup.enable_admin()
            sp = setup.service_principal(f"clients-{scheme}", role="AcrPush")
            setup.assign(sp.object_id, "AcrDelete", setup.registry_id())
            endpoints[scheme] = Endpoint(server, scheme, setup, ("default", password), sp)
        time.sleep(1.2)  # the servers cache registry properties (the admin user's state) for a second
        yield endpoints
