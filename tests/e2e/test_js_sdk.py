"""The JavaScript Azure SDK (``@azure/container-registry`` + ``@azure/identity``) on berth.

``tests/e2e/js/`` is an npm project pinned by its ``package-lock.json``; ``npm ci`` installs it
once per machine (again only when the lock file changes). ``sdk.mjs`` signs in with
``ClientSecretCredential`` at berth's directory over HTTPS (node trusts berth's local CA through
``NODE_EXTRA_CA_CERTS``), seeds a repository through the content client, then lists, reads,
updates and deletes repositories, tags and manifests, paging with small page sizes. Its
assertions are in the script; this test checks the summary it prints and berth's state after.

This guards the paging bug the JS SDK met: it merges a response's headers and JSON body, so a
``"link"`` in the body of ``/acr/v1/<repo>/_tags`` (without the header's angle brackets) made the
next URL empty and listing stopped after the first page, silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.containerregistry import ContainerRegistryClient
from azure.identity import ClientSecretCredential

from tests.support.access_setup import AccessSetup, ServicePrincipal
from tests.support.tls_server import TlsBerthServer

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).parent / "js"
AUDIENCE = "https://containerregistry.azure.net"
TAGS = 7  # pages of 3 → three pages of tags (7 + "latest")


def npm_ci(project: Path) -> None:
    """``npm ci`` unless node_modules already holds what this lock file pins."""
    lock = hashlib.sha256((project / "package-lock.json").read_bytes()).hexdigest()
    stamp = project / "node_modules" / ".berth-lock-sha256"
    if stamp.exists() and stamp.read_text() == lock:
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is missing: run scripts/install-system-packages.sh"
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=project, check=True, timeout=600
    )
    stamp.write_text(lock)


@dataclass
class Registry:
    server: TlsBerthServer
    setup: AccessSetup
    editor: ServicePrincipal


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    npm_ci(PROJECT)
    data_dir = tmp_path_factory.mktemp("js-sdk") / "berth"
    database_url = f"sqlite:///{data_dir.parent / 'metadata.db'}"
    server = TlsBerthServer(
        data_dir, database_url=database_url, env={"BERTH_BOOTSTRAP_PASSWORD": "owner-Passw0rd"}
    )
    server.init_tls()
    setup = AccessSetup.for_database(database_url)
    editor = setup.service_principal("js-editor", role="AcrPush")
    setup.assign(editor.object_id, "AcrDelete", setup.registry_id())
    with server:
        yield Registry(server, setup, editor)
    setup.close()


def run_node(registry: Registry, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "node is missing: run scripts/install-system-packages.sh"
    sp = registry.editor
    return subprocess.run(
        [node, script],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "NODE_EXTRA_CA_CERTS": str(registry.server.ca_file),
            "BERTH_URL": registry.server.url,
            "BERTH_TENANT": sp.tenant_id,
            "BERTH_CLIENT_ID": sp.app_id,
            "BERTH_CLIENT_SECRET": sp.secret,
            **env,
        },
    )


def test_lists_reads_updates_and_deletes_across_pages(registry: Registry) -> None:
    result = run_node(registry, "sdk.mjs", BERTH_REPOSITORY="js/paging", BERTH_TAG_COUNT=str(TAGS))

    assert result.returncode == 0, f"node failed:\n{result.stdout}\n{result.stderr}"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["tagPages"] == [["latest", "v00", "v01"], ["v02", "v03", "v04"], ["v05", "v06"]]
    assert [len(page) for page in summary["manifestPages"]] == [2, 2, 2, 1]
    assert all(len(page) == 1 for page in summary["repositoryPages"])
    assert summary["remainingManifests"] == TAGS - 1

    # berth's view after the SDK's deletes, through another client (the Python SDK).
    server, sp = registry.server, registry.editor
    ca = str(server.ca_file)
    with (
        ClientSecretCredential(
            sp.tenant_id,
            sp.app_id,
            sp.secret,
            authority=server.url,
            disable_instance_discovery=True,
            connection_verify=ca,
        ) as credential,
        ContainerRegistryClient(server.url, credential, audience=AUDIENCE, connection_verify=ca) as client,
    ):
        assert "js/other" not in list(client.list_repository_names())
        tags = [t.name for t in client.list_tag_properties("js/paging")]
        assert tags == [f"v{i:02d}" for i in range(TAGS - 1)]  # v06 went with its manifest
        assert len(list(client.list_manifest_properties("js/paging"))) == TAGS - 1
