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
