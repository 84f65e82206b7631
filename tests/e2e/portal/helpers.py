"""Helpers of the portal's browser suite: the docker CLI with its own configuration, a referrer
pushed over the registry API, and waiting for asynchronously recorded events to show."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page

from tests.support.access_setup import ServicePrincipal
from tests.support.dockerd import DockerDaemon
from tests.support.images import OCI_MANIFEST, sha256_digest
from tests.support.server import BerthServer

DOCKER_TIMEOUT = 300


class Docker:
    """The docker CLI with a private client configuration."""

    def __init__(self, daemon: DockerDaemon, config: Path, registry: str) -> None:
        self.daemon, self.config, self.registry = daemon, config, registry

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.daemon.env, "DOCKER_CONFIG": str(self.config)}
        return subprocess.run(
            [self.daemon.cli, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def login(self, username: str, password: str) -> subprocess.CompletedProcess[str]:
        return self("login", self.registry, "--username", username, "--password-stdin", stdin=password)


def push_signature(server: BerthServer, sp: ServicePrincipal, repository: str, subject: str) -> str:
    """A signature artifact referring to ``subject``, pushed over the registry API with docker's
    token flow (Basic credentials at ``/oauth2/token``); returns its digest."""
    with httpx.Client(base_url=server.url, timeout=30.0, trust_env=False) as http:
        token = (
            http.get(
                "/oauth2/token",
                params={"service": server.address, "scope": f"repository:{repository}:pull,push"},
                auth=(sp.app_id, sp.secret),
            )
            .raise_for_status()
            .json()["access_token"]
        )
        auth = {"Authorization": f"Bearer {token}"}
        subject_manifest = http.get(
            f"/v2/{repository}/manifests/{subject}",
            headers={**auth, "Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        ).raise_for_status()
        empty = b"{}"
        empty_digest = sha256_digest(empty)
        http.post(
            f"/v2/{repository}/blobs/uploads/",
            params={"digest": empty_digest},
            content=empty,
            headers={**auth, "Content-Type": "application/octet-stream"},
        ).raise_for_status()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": "application/vnd.dev.cosign.signature.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": empty_digest,
                    "size": 2,
                },
                "layers": [
                    {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest, "size": 2}
                ],
                "subject": {
                    "mediaType": subject_manifest.headers["content-type"],
                    "digest": subject,
                    "size": len(subject_manifest.content),
                },
            }
        ).encode()
        put = http.put(
            f"/v2/{repository}/manifests/{sha256_digest(manifest)}",
            content=manifest,
            headers={**auth, "Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text
        return sha256_digest(manifest)


def settled(page: Page, url: str, text: str, locator: str = "main", attempts: int = 40) -> None:
    """Open ``url`` until ``text`` shows (events land within a fraction of a second, asynchronously)."""
    for _ in range(attempts):
        page.goto(url)
        if text in page.locator(locator).inner_text():
            return
        time.sleep(0.25)
    raise AssertionError(f"{text!r} never appeared on {url}:\n{page.locator(locator).inner_text()[:2000]}")
