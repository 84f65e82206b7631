"""Seed symptom "the registry cannot be reached from Azure Kubernetes Service, Azure DevOps or
another Azure service", for clusters and pipelines that sign in without stored secrets.

A Kubernetes-style workload and a GitHub-Actions-style job present their own issuer's token
(:class:`tests.support.oidc_issuer.OidcIssuer`) to the directory, which trusts it through a
federated credential made with ``berth ad app federated-credential create``; the directory token
goes through ``/oauth2/exchange`` to the refresh token ``docker login`` takes, and docker pulls.
The workload speaks HTTP to the token endpoint itself here (azure-identity insists on HTTPS; its
credentials have their own suite, tests/e2e/test_azure_sdk_secretless.py). A token for another
subject is refused, and ``diagnose`` names why and prints the command that fixes it. A
certificate from ``--create-cert`` signs the same way in, and ``credential reset --create-cert``
replaces it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tests.scenarios.checks import diagnose
from tests.scenarios.conftest import Stage
from tests.support.oidc_issuer import OidcIssuer

pytestmark = pytest.mark.e2e

REGISTRIES = ("fleet",)
REGISTRY = "fleet"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NULL_GUID = "00000000-0000-0000-0000-000000000000"


def _token_url(stage: Stage, login_server: str) -> str:
    tenant = stage.berth("account", "show", "--query", "tenantId", "-o", "tsv").stdout.strip()
    return f"http://{login_server}/{tenant}/oauth2/v2.0/token"


def _sign_in(url: str, app_id: str, assertion: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": "https://containerregistry.azure.net/.default",
    }
    return httpx.post(url, data=form, trust_env=False, timeout=30)


def _refresh_token(login_server: str, directory_token: str) -> str:
    exchanged = httpx.post(
        f"http://{login_server}/oauth2/exchange",
        data={"grant_type": "access_token", "service": login_server, "access_token": directory_token},
        trust_env=False,
        timeout=30,
    )
    assert exchanged.status_code == 200, exchanged.text
    return str(exchanged.json()["refresh_token"])


def _pull_with(stage: Stage, name: str, login_server: str, refresh_token: str, image: str) -> None:
    config = stage.docker_config(name)
    stage.remember(refresh_token)
    stage.docker_ok(
        "login", login_server, "-u", NULL_GUID, "--password-stdin", docker_config=config, stdin=refresh_token
    )
    stage.docker_ok("pull", image, docker_config=config)


def _certificate_assertion(pem_file: Path, app_id: str, audience: str) -> str:
    text = pem_file.read_text()
    key = serialization.load_pem_private_key(text.encode(), None)
    certificate = x509.load_pem_x509_certificate(text.encode())
    x5t = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
    now = int(time.time())
    claims = {
        "iss": app_id,
        "sub": app_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "exp": now + 300,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5t": x5t})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def image(stage: Stage) -> str:
    login_server = stage.create_registry(REGISTRY)
    config = stage.docker_config("owner")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=config)
    return stage.push_image(login_server, "shop/web", config)


def _puller(stage: Stage, name: str) -> dict[str, Any]:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp: dict[str, Any] = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", name, "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    return sp


def test_cluster_workload_and_ci_job_pull_without_secrets(stage: Stage, image: str) -> None:
    login_server = stage.login_server(REGISTRY)
    url = _token_url(stage, login_server)
    with OidcIssuer("cluster") as cluster, OidcIssuer() as ci:
        cases = (
            ("web", cluster, "system:serviceaccount:shop:web", cluster.kubernetes_token("shop", "web")),
            ("github", ci, "repo:acme/shop:ref:refs/heads/main", ci.github_token("acme/shop")),
        )
        app_ids: dict[str, str] = {}
        for name, issuer, subject, assertion in cases:
            sp = _puller(stage, f"fleet-{name}")
            app_ids[name] = sp["appId"]
            parameters = json.dumps({"name": name, "issuer": issuer.url, "subject": subject})
            created = stage.berth_json(
                "ad", "app", "federated-credential", "create", "--id", sp["appId"], "--parameters", parameters
            )
            assert created["audiences"] == ["api://AzureADTokenExchange"]
            listed = stage.berth_json("ad", "app", "federated-credential", "list", "--id", sp["appId"])
            assert [c["subject"] for c in listed] == [subject]

            answer = _sign_in(url, sp["appId"], assertion)
            assert answer.status_code == 200, answer.text
            _pull_with(
                stage, name, login_server, _refresh_token(login_server, answer.json()["access_token"]), image
            )

        # the berth CLI in the CI job, as az login --service-principal --federated-token
        stage.berth(
            "login", "--service-principal", "-u", app_ids["github"],
            "--federated-token", ci.github_token("acme/shop"),
            "--tenant", url.split("/")[3], "--server", stage.service_url, identity="ci-job",
        )  # fmt: skip
        exposed = stage.berth_json("acr", "login", "-n", REGISTRY, "--expose-token", identity="ci-job")
        stage.remember(exposed["refreshToken"])
        assert exposed["loginServer"] == login_server

        # the same cluster, another namespace: refused, and diagnose says why and what fixes it
        refused = _sign_in(url, app_ids["web"], cluster.kubernetes_token("staging", "web"))
        assert refused.status_code == 401
        assert "AADSTS70021" in refused.json()["error_description"]
    found = diagnose(stage, REGISTRY)
    verdict = next(v for v in found.verdicts if v["code"] == "FEDERATION_SUBJECT_MISMATCH")
    assert "system:serviceaccount:staging:web" in verdict["cause"]
    assert "berth ad app federated-credential create --id" in verdict["fix"]
    assert "FEDERATION_SUBJECT_MISMATCH" in found.text
    # what the workload printed (azure-identity's wording) leads to the same cause
    said = diagnose(stage, REGISTRY, "--error", refused.json()["error_description"])
    assert said.document["symptoms"][0]["symptom"] == "Federated sign-in refused (cluster or pipeline)"
    stage.berth(
        "ad",
        "app",
        "federated-credential",
        "delete",
        "--id",
        app_ids["web"],
        "--federated-credential-id",
        "web",
    )
    assert stage.berth_json("ad", "app", "federated-credential", "list", "--id", app_ids["web"]) == []
    stage.assert_no_secrets(REGISTRY)


def test_certificate_from_create_cert_pulls_and_reset_replaces_it(
    stage: Stage, image: str, tmp_path: Path
) -> None:
    login_server = stage.login_server(REGISTRY)
    url = _token_url(stage, login_server)
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    home = {"HOME": str(tmp_path)}
    sp = stage.berth_json(
        "ad",
        "sp",
        "create-for-rbac",
        "-n",
        "fleet-cert",
        "--create-cert",
        "--role",
        "AcrPull",
        "--scopes",
        registry_id,
        env=home,
    )
    assert sp["password"] is None
    first = Path(sp["fileWithCertAndPrivateKey"])
    assert first.parent == tmp_path
    assert first.stat().st_mode & 0o777 == 0o600
    stage.remember(first.read_text())
    audience = url

    answer = _sign_in(url, sp["appId"], _certificate_assertion(first, sp["appId"], audience))
    assert answer.status_code == 200, answer.text
    _pull_with(
        stage, "cert", login_server, _refresh_token(login_server, answer.json()["access_token"]), image
    )

    reset = stage.berth_json(
        "ad", "sp", "credential", "reset", "--id", sp["appId"], "--create-cert", env=home
    )
    second = Path(reset["fileWithCertAndPrivateKey"])
    stage.remember(second.read_text())
    assert (
        _sign_in(url, sp["appId"], _certificate_assertion(second, sp["appId"], audience)).status_code == 200
    )
    assert _sign_in(url, sp["appId"], _certificate_assertion(first, sp["appId"], audience)).status_code == 401
    certificates = stage.berth_json("ad", "sp", "credential", "list", "--id", sp["appId"], "--cert")
    assert len(certificates) == 1
    assert stage.berth_json("ad", "sp", "credential", "list", "--id", sp["appId"]) == []  # no password left
    assert "CERTIFICATE_NOT_REGISTERED" in diagnose(stage, REGISTRY).verdict_codes


def _check_acr(stage: Stage, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``check-acr`` as a host with no berth session runs it."""
    environment = {"BERTH_SERVER": stage.service_url, **(env or {})}
    result = stage.berth(
        "acr", "check-acr", "-n", REGISTRY, *args, identity="host", env=environment, check=False
    )
    return result.returncode, result.stdout, result.stderr


def test_check_acr_on_a_cluster_node_a_vm_and_with_a_pull_secret(
    stage: Stage, image: str, tmp_path: Path
) -> None:
    login_server = stage.login_server(REGISTRY)
    tenant = stage.berth("account", "show", "--query", "tenantId", "-o", "tsv").stdout.strip()
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    with OidcIssuer("node") as cluster:
        sp = _puller(stage, "fleet-node")
        parameters = json.dumps(
            {"name": "node", "issuer": cluster.url, "subject": "system:serviceaccount:kube:app"}
        )
        stage.berth(
            "ad", "app", "federated-credential", "create", "--id", sp["appId"], "--parameters", parameters
        )
        token_file = tmp_path / "token"
        workload = {
            "AZURE_CLIENT_ID": sp["appId"],
            "AZURE_TENANT_ID": tenant,
            "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
            "AZURE_AUTHORITY_HOST": stage.service_url,
        }
        token_file.write_text(cluster.kubernetes_token("kube", "app"))
        code, _, lines = _check_acr(stage, env=workload)
        assert code == 0, lines
        assert "Validating image pull permission: SUCCEEDED" in lines
        assert f"Your host can pull images from {login_server}!" in lines

        token_file.write_text(cluster.kubernetes_token("kube", "other"))
        code, _, lines = _check_acr(stage, env=workload)
        assert code == 1
        assert "Signing in with the federated token: FAILED (FEDERATION_SUBJECT_MISMATCH)" in lines
        assert "Fix: Add a federated credential with exactly that subject" in lines

        token_file.write_text(cluster.kubernetes_token("kube", "app", issued_at=time.time() - 7200))
        code, _, lines = _check_acr(stage, env=workload)
        assert "FAILED (FEDERATION_TOKEN_EXPIRED)" in lines

    stage.berth("identity", "create", "-n", "fleet-vm", "-g", "scenarios")
    host = stage.berth_json(
        "identity", "host-credential", "create", "-n", "fleet-vm", "-g", "scenarios", "--host", "vm-1"
    )
    stage.remember(host["identityHeader"])
    vm = {"IDENTITY_ENDPOINT": host["identityEndpoint"], "IDENTITY_HEADER": host["identityHeader"]}
    code, _, lines = _check_acr(stage, env=vm)
    assert code == 1
    assert "FAILED (CONNECTIVITY_REFRESH_TOKEN_ERROR)" in lines  # no role yet
    principal = stage.berth(
        "identity", "show", "-n", "fleet-vm", "-g", "scenarios", "--query", "principalId", "-o", "tsv"
    ).stdout.strip()
    stage.berth(
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        principal,
        "--role",
        "AcrPull",
        "--scope",
        registry_id,
    )
    code, _, lines = _check_acr(stage, env=vm)
    assert code == 0, lines
    code, _, lines = _check_acr(stage, env={**vm, "IDENTITY_HEADER": host["identityHeader"][:-2] + "xx"})
    assert "FAILED (MANAGED_IDENTITY_HOST_SECRET_INVALID)" in lines

    token = stage.berth_json(
        "acr", "token", "create", "-r", REGISTRY, "-n", "cluster-pull", "--scope-map", "_repositories_pull"
    )
    password = token["credentials"]["passwords"][0]["value"]
    stage.remember(password)
    code, secret, lines = _check_acr(
        stage, "--username", "cluster-pull", "--password", password, "--create-pull-secret"
    )
    assert code == 0, lines
    document = json.loads(secret)
    assert document["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(document["data"][".dockerconfigjson"]))
    assert config["auths"][login_server]["username"] == "cluster-pull"
    (tmp_path / "secret.json").write_text(secret)
    code, _, lines = _check_acr(stage, "--pull-secret", str(tmp_path / "secret.json"))
    assert code == 0, lines
    code, _, lines = _check_acr(stage)
    assert "FAILED (NO_HOST_IDENTITY)" in lines
    stage.assert_no_secrets(REGISTRY)
