"""``berth serve`` over HTTPS with the local CA of ``berth tls init``.

:class:`TlsBerthServer` is a :class:`tests.support.server.BerthServer` whose data directory
gets ``tls/`` from the real ``berth tls init`` command before the first start; ``berth serve``
then finds ``tls/server.crt`` and ``tls/server.key`` on its own (no TLS flags), which is the
behaviour docs/tls.md promises. Clients address ``https://localhost:PORT`` — the bare address
(default registry) and a name the certificate covers — and trust :attr:`ca_file`.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import BerthServer, ServerError


class TlsBerthServer(BerthServer):
    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.crt"

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def host(self) -> str:
        """What clients type: ``localhost:PORT``."""
        return f"localhost:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def init_tls(self, domain: str = "localhost") -> str:
        """Run ``berth tls init`` for the data directory; returns what it printed."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "berth",
                "tls",
                "init",
                "--data-dir",
                str(self.data_dir),
                "--domain",
                domain,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("BERTH_")},
        )
        if result.returncode != 0:
            raise ServerError(f"berth tls init failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self, timeout: float = 30.0) -> TlsBerthServer:
        if not (self.tls_dir / "server.crt").exists():
            self.init_tls()
        super().start(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        """As the base class does, but over HTTPS, trusting only the local CA."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False, verify=self.ssl_context()) as client:
            while True:
                if self.process.poll() is not None:
                    raise ServerError(f"berth exited with {self.process.returncode}:\n{self._tail()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
                    raise ServerError(
                        f"berth did not become ready over HTTPS within {timeout:.0f} s:\n{self._tail()}"
                    )
                time.sleep(0.05)
