"""Object storage servers for the test session, each a separate process on loopback.

- :func:`moto_server`: moto in server mode (``moto[server]`` from PyPI, a test extra), the S3
  test server: berth's S3 driver speaks to it over HTTP with boto3, as to any S3 endpoint.
- :func:`azurite_server`: Azurite, Microsoft's Azure Storage emulator (npm package
  ``azurite``), installed with npm once per machine into ``/var/cache/berth-tests/azurite-<v>``
  (where writable; else ``<repo>/.cache/``, git-ignored; or ``$BERTH_AZURITE_CACHE``), a
  folder reused across runs, and started from there.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.ports import free_port

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient
    from mypy_boto3_s3 import S3Client

AZURITE_VERSION = "3.37.0"
REPO = Path(__file__).resolve().parents[2]
MACHINE_CACHE = Path("/var/cache/berth-tests")
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no server answered on port {port} within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def _serving(command: list[str], port: int) -> Iterator[None]:
    """Run ``command`` (a server that listens on ``port``) for the time of the block."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process)
        yield
    finally:
        _stop(process)
        log.close()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str = "berth-test"
    secret_key: str = "berth-test-secret"  # moto accepts any credentials
    region: str = "us-east-1"


@contextmanager
def moto_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for the time of the block."""
    port = free_port()
    with _serving([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port):
        yield S3Server(endpoint=f"http://127.0.0.1:{port}")


def s3_client(server: S3Server) -> S3Client:
    """A boto3 client of ``server``, configured as berth's own."""
    import boto3

    from berth.storage.s3 import client_config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=client_config(),
    )


def new_bucket(server: S3Server) -> str:
    """A new, empty bucket with a random name."""
    bucket = f"berth-{uuid.uuid4().hex[:12]}"
    s3_client(server).create_bucket(Bucket=bucket)
    return bucket


def azurite_cache() -> Path:
    configured = os.environ.get("BERTH_AZURITE_CACHE")
    if configured:
        return Path(configured)
    machine_wide = MACHINE_CACHE.exists() or os.access(MACHINE_CACHE.parent, os.W_OK)
    return (MACHINE_CACHE if machine_wide else REPO / ".cache") / f"azurite-{AZURITE_VERSION}"


def ensure_azurite() -> Path:
    """The path of ``azurite-blob`` in the npm cache folder, installing it first if needed."""
    prefix = azurite_cache()
    binary = prefix / "node_modules" / ".bin" / "azurite-blob"
    marker = prefix / ".installed"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with (prefix.parent / f".{prefix.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and binary.exists():
            return binary
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: install Debian's 'npm' package (make test does this)")
        prefix.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                f"azurite@{AZURITE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm install azurite@{AZURITE_VERSION} failed:\n{result.stderr[-4000:]}")
        marker.write_text(AZURITE_VERSION)
    return binary


@dataclass(frozen=True)
class AzureServer:
    endpoint: str  # the account's blob endpoint, http://127.0.0.1:<port>/devstoreaccount1
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account};"
            f"AccountKey={self.key};BlobEndpoint={self.endpoint};"
        )


@contextmanager
def azurite_server() -> Iterator[AzureServer]:
    """Azurite's blob service on a free loopback port, with its data in a temporary folder."""
    binary = ensure_azurite()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="berth-azurite-") as data:
        command = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", data]
        with _serving([*command, "--silent", "--skipApiVersionCheck"], port):
            yield AzureServer(endpoint=f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}")


def new_container(server: AzureServer) -> ContainerClient:
    """A new, empty container with a random name."""
    from azure.storage.blob import ContainerClient

    name = f"berth-{uuid.uuid4().hex[:12]}"
    container = ContainerClient.from_connection_string(server.connection_string, name)
    container.create_container()
    return container


# What ``berth serve`` needs to store blobs on one of these servers: the environment that
# selects the driver (in a new bucket or container), and a lister of the stored keys.
Backend = tuple[dict[str, str], Callable[[], list[str]]]


def s3_backend(server: S3Server) -> Backend:
    bucket = new_bucket(server)
    client = s3_client(server)
    env = {
        "BERTH_STORAGE_DRIVER": "s3",
        "BERTH_S3_ENDPOINT": server.endpoint,
        "BERTH_S3_BUCKET": bucket,
        "BERTH_S3_REGION": server.region,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }

    def keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    return env, keys


def azure_backend(server: AzureServer) -> Backend:
    container = new_container(server)
    env = {
        "BERTH_STORAGE_DRIVER": "azure",
        "BERTH_AZURE_ACCOUNT_URL": server.endpoint,
        "BERTH_AZURE_CONTAINER": container.container_name,
        "AZURE_STORAGE_KEY": server.key,
    }
    return env, lambda: [blob.name for blob in container.list_blobs()]
