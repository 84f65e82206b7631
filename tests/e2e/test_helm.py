"""Helm charts as OCI artifacts: Helm 4's Go SDK (PyPI ``helm-python-sdk``) against berth.

A chart made with the SDK (``Chart.create`` + ``package``) is pushed after a registry login and
pulled back byte for byte; berth stores it with Helm's media types (the config
``application/vnd.cncf.helm.config.v1+json``, the layer
``application/vnd.cncf.helm.chart.content.v1.tar+gzip``) and lists it in ``/acr/v1/``. With the
admin user and a service principal, over HTTP (``plain_http``) and HTTPS (berth's CA through
``SSL_CERT_FILE``, which Go reads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.endpoints import IDENTITIES, SCHEMES, Endpoint

pytestmark = pytest.mark.e2e

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPO_ROOT = Path(__file__).resolve().parents[2]


def helm(endpoint: Endpoint, home: Path, **request: Any) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    env["HOME"] = str(home)
    if endpoint.ca_file is not None:
        env["SSL_CERT_FILE"] = str(endpoint.ca_file)
    request = {
        "plain_http": endpoint.ca_file is None,
        "credentials_file": str(home / "registry.json"),
        **request,
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.helm_driver"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"helm {request['op']}:\n{result.stdout}{result.stderr}"
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def bearer(endpoint: Endpoint, http: httpx.Client, repository: str) -> dict[str, str]:
    sp = endpoint.sp
    token = http.get(
        "/oauth2/token",
        params={"service": endpoint.host, "scope": f"repository:{repository}:pull,metadata_read"},
        auth=(sp.app_id, sp.secret),
    ).raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_login_push_pull_a_chart(
    endpoints: dict[str, Endpoint], tmp_path: Path, scheme: str, identity: str
) -> None:
    endpoint = endpoints[scheme]
    username, password = endpoint.credentials(identity)
    home = tmp_path / "helm"
    home.mkdir()
    chart = Path(
        helm(endpoint, home, op="package", name="demo", directory=str(tmp_path), version="0.1.0")["archive"]
    )
    namespace = f"charts-{identity}"

    helm(endpoint, home, op="login", host=endpoint.host, username=username, password=password)
    helm(endpoint, home, op="push", chart=str(chart), remote=f"oci://{endpoint.host}/{namespace}")
    pulled_dir = tmp_path / "pulled"
    pulled_dir.mkdir()
    helm(
        endpoint,
        home,
        op="pull",
        ref=f"oci://{endpoint.host}/{namespace}/demo",
        version="0.1.0",
        destination=str(pulled_dir),
    )
    helm(endpoint, home, op="logout", host=endpoint.host)

    assert (pulled_dir / "demo-0.1.0.tgz").read_bytes() == chart.read_bytes()
    repository = f"{namespace}/demo"
    with httpx.Client(base_url=endpoint.url, verify=endpoint.verify()) as http:
        headers = bearer(endpoint, http, repository)
        stored = http.get(f"/v2/{repository}/manifests/0.1.0", headers={**headers, "Accept": OCI_MANIFEST})
        listed = http.get(f"/acr/v1/{repository}/_manifests", headers=headers)
    document = stored.raise_for_status().json()
    assert document["config"]["mediaType"] == HELM_CONFIG
    assert [layer["mediaType"] for layer in document["layers"]] == [HELM_CHART]
    [entry] = listed.raise_for_status().json()["manifests"]
    assert entry["digest"] == stored.headers["Docker-Content-Digest"]
    assert entry["mediaType"] == OCI_MANIFEST
    assert entry["tags"] == ["0.1.0"]
