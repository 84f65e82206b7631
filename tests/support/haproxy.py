"""HAProxy (Debian's ``haproxy`` package) in front of berth replicas, with the configuration
docs/deployment.md shows (``docs/deployment/haproxy.cfg``, used unchanged: the listening and
replica addresses come from environment variables, which HAProxy expands in its config)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.ports import free_port

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "deployment" / "haproxy.cfg"


@contextmanager
def haproxy(replicas: Sequence[str], port: int | None = None, config: Path = CONFIG) -> Iterator[str]:
    """Balance ``replicas`` (``HOST:PORT`` each, three) on loopback ``port`` (default: a free
    one); yields the balancer's ``127.0.0.1:PORT`` once a request through it succeeds."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        raise RuntimeError("HAProxy is not installed: install Debian's 'haproxy' (make test does this)")
    port = port or free_port()
    env = {"BERTH_LB_BIND": f"127.0.0.1:{port}", "PATH": "/usr/sbin:/usr/bin:/bin"}
    env.update({f"BERTH_REPLICA_{i}": address for i, address in enumerate(replicas, start=1)})
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [binary, "-db", "-f", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"haproxy exited with {process.returncode}: {log.read().decode()}")
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2, trust_env=False).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("haproxy did not answer within 30 s")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
