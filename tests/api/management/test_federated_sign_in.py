"""The token endpoint's client assertions: a federated token from an external issuer (a
Kubernetes service account, a GitHub Actions job) or a certificate-signed assertion, for a
directory token; every refusal is a distinct reason in the login events and a diagnose verdict."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from berth.app import BerthApp
from berth.events.columns import from_columns
from berth.events.recorder import EventRecorder
from berth.troubleshoot.explain import RegistryFacts, explain
from tests.api.management.arm import ArmCaller, TestClient
from tests.api.management.test_identity_credentials import _certificate_pem
from tests.support.oidc_issuer import OidcIssuer
from tests.support.ports import free_port

TOKEN_URL = "/organizations/oauth2/v2.0/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REGISTRY_SCOPE = "https://containerregistry.azure.net/.default"


@pytest.fixture(scope="module")
def cluster() -> Iterator[OidcIssuer]:
    with OidcIssuer("cluster") as issuer:
        yield issuer


@pytest.fixture(scope="module")
def ci() -> Iterator[OidcIssuer]:
    with OidcIssuer() as issuer:
        yield issuer


def _assertion_sign_in(client: TestClient, app_id: str, assertion: str) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": REGISTRY_SCOPE,
    }
    return client.post(TOKEN_URL, data=form)


def _trusting_sp(owner: ArmCaller, name: str, issuer: str, subject: str) -> dict[str, Any]:
    sp, _ = owner.create_service_principal(name)
    body = {"name": f"{name}-fic", "issuer": issuer, "subject": subject}
    owner.ok(owner.post(f"/v1.0/applications/{sp['id']}/federatedIdentityCredentials", body), 201)
    owner.assign(sp["id"], "AcrPull", owner.registry("default", "default"))
    return sp


def _login_events(app: BerthApp, owner: ArmCaller) -> list[dict[str, Any]]:
    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()
    path = f"{owner.registry('default', 'default')}/logs/login"
    rows: list[dict[str, Any]] = owner.ok(owner.get(path, params={"status": "failed"}))["value"]
    return [from_columns(row) for row in rows]


def test_kubernetes_and_github_tokens_sign_in_and_pull(
    owner: ArmCaller, client: TestClient, cluster: OidcIssuer, ci: OidcIssuer
) -> None:
    discovery = "/cluster/.well-known/openid-configuration"
    fetched_before = cluster.requests.count(discovery)  # the issuer outlives each app
    workload = _trusting_sp(owner, "workload", cluster.url, "system:serviceaccount:apps:web")
    pipeline = _trusting_sp(owner, "pipeline", ci.url, "repo:acme/app:ref:refs/heads/main")

    for sp, token in (
        (workload, cluster.kubernetes_token("apps", "web")),
        (pipeline, ci.github_token("acme/app")),
    ):
        answer = _assertion_sign_in(client, sp["appId"], token)
        assert answer.status_code == 200, answer.text
        directory_token = answer.json()["access_token"]
        claims = jwt.decode(directory_token, options={"verify_signature": False})
        assert claims["appid"] == sp["appId"]
        assert claims["aud"] == "https://containerregistry.azure.net"
        exchanged = client.post(
            "/oauth2/exchange",
            data={"grant_type": "access_token", "service": "localhost:5000", "access_token": directory_token},
        )
        assert exchanged.status_code == 200, exchanged.text
        pull = client.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": "localhost:5000",
                "scope": "repository:app:pull",
                "refresh_token": exchanged.json()["refresh_token"],
            },
        )
        access = jwt.decode(pull.json()["access_token"], options={"verify_signature": False})
        assert access["access"] == [{"type": "repository", "name": "app", "actions": ["pull"]}]
    # discovery and keys were fetched once per issuer, then cached
    assert cluster.requests.count(discovery) == fetched_before + 1


def test_every_refusal_has_its_reason_and_verdict(
    app: BerthApp, owner: ArmCaller, client: TestClient, cluster: OidcIssuer, ci: OidcIssuer
) -> None:
    subject = "system:serviceaccount:apps:api"
    sp = _trusting_sp(owner, "refused", cluster.url, subject)
    dead_issuer = f"http://127.0.0.1:{free_port()}"
    owner.ok(
        owner.post(
            f"/v1.0/applications/{sp['id']}/federatedIdentityCredentials",
            {"name": "gone", "issuer": dead_issuer, "subject": subject},
        ),
        201,
    )
    stale = {"issued_at": time.time() - 7200}
    future = {"issued_at": time.time() + 600}
    dead = jwt.encode(
        {"iss": dead_issuer, "sub": subject, "aud": "api://AzureADTokenExchange", "exp": time.time() + 60},
        "k" * 32,
        algorithm="HS256",
    )
    cases = {
        "federation_unknown_issuer": (ci.kubernetes_token("apps", "api"), 70021),
        "federation_issuer_unreachable": (dead, 50166),
        "federation_subject_mismatch": (cluster.kubernetes_token("apps", "other"), 70021),
        "federation_audience_mismatch": (cluster.kubernetes_token("apps", "api", audience="sts"), 700212),
        "federation_assertion_expired": (cluster.kubernetes_token("apps", "api", **stale), 700024),
        "federation_clock_skew": (cluster.kubernetes_token("apps", "api", **future), 700024),
        "federation_bad_signature": (cluster.kubernetes_token("apps", "api", foreign_key=True), 700027),
        "assertion_invalid": ("not-a-jwt", 50027),
    }
    for reason, (assertion, code) in cases.items():
        answer = _assertion_sign_in(client, sp["appId"], assertion)
        assert answer.status_code == 401, (reason, answer.text)
        assert answer.json()["error_codes"] == [code], (reason, answer.text)

    events = {e["reason"]: e for e in _login_events(app, owner)}
    facts = RegistryFacts("default", owner.registry("default", "default"), "localhost:5000")
    verdicts = {reason: explain(events[reason], facts) for reason in cases}
    codes = {reason: v.code for reason, v in verdicts.items() if v is not None}
    assert codes == {
        "federation_unknown_issuer": "FEDERATION_UNKNOWN_ISSUER",
        "federation_issuer_unreachable": "FEDERATION_ISSUER_UNREACHABLE",
        "federation_subject_mismatch": "FEDERATION_SUBJECT_MISMATCH",
        "federation_audience_mismatch": "FEDERATION_AUDIENCE_MISMATCH",
        "federation_assertion_expired": "FEDERATION_TOKEN_EXPIRED",
        "federation_clock_skew": "FEDERATION_CLOCK_SKEW",
        "federation_bad_signature": "FEDERATION_BAD_SIGNATURE",
        "assertion_invalid": "CLIENT_ASSERTION_INVALID",
    }
    assert all(e["identity"] == sp["appId"] for e in events.values())
    assert "system:serviceaccount:apps:other" in events["federation_subject_mismatch"]["detail"]
    assert verdicts["federation_subject_mismatch"] is not None
    assert f"--id {sp['appId']}" in verdicts["federation_subject_mismatch"].fix


def _certificate_assertion(
    app_id: str, private_pem: str, certificate_pem: str, audience: str, *, sha256: bool = False
) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    now = int(time.time())
    claims = {
        "iss": app_id,
        "sub": app_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "exp": now + 600,
    }
    digest = certificate.fingerprint(hashes.SHA256() if sha256 else hashes.SHA1())
    header = {"x5t#S256" if sha256 else "x5t": base64.urlsafe_b64encode(digest).decode().rstrip("=")}
    return jwt.encode(claims, key, algorithm="RS256", headers=header)  # type: ignore[arg-type]


def test_certificate_assertions(app: BerthApp, owner: ArmCaller, client: TestClient) -> None:
    sp, _ = owner.create_service_principal("cert-sp")
    certificate, private = _certificate_pem()
    other_certificate, other_private = _certificate_pem()
    expired_certificate, expired_private = _certificate_pem(days=-1)
    for key in (certificate, expired_certificate):
        owner.ok(
            owner.post(
                f"/v1.0/servicePrincipals/{sp['id']}/addKeyCredential",
                {"keyCredential": {"key": key}, "append": True},
            )
        )
    tenant = app.services.tenancy.tenant_id
    endpoint = f"http://localhost:5000/{tenant}/oauth2/v2.0/token"

    good = _assertion_sign_in(
        client, sp["appId"], _certificate_assertion(sp["appId"], private, certificate, endpoint)
    )
    unknown = _assertion_sign_in(
        client, sp["appId"], _certificate_assertion(sp["appId"], other_private, other_certificate, endpoint)
    )
    wrong_key = _assertion_sign_in(
        client, sp["appId"], _certificate_assertion(sp["appId"], other_private, certificate, endpoint)
    )
    by_sha256 = _assertion_sign_in(
        client, sp["appId"], _certificate_assertion(sp["appId"], private, certificate, endpoint, sha256=True)
    )
    expired = _assertion_sign_in(
        client,
        sp["appId"],
        _certificate_assertion(sp["appId"], expired_private, expired_certificate, endpoint),
    )
    elsewhere = _assertion_sign_in(
        client,
        sp["appId"],
        _certificate_assertion(sp["appId"], private, certificate, "https://elsewhere/token"),
    )

    assert good.status_code == 200, good.text
    assert by_sha256.status_code == 200, by_sha256.text
    refused = (unknown, wrong_key, expired, elsewhere)
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    events = _login_events(app, owner)
    assert sorted(e["reason"] for e in events) == [
        "certificate_assertion_invalid",
        "certificate_assertion_invalid",
        "certificate_expired",
        "certificate_unknown",
    ]


def test_a_managed_identity_trusts_a_cluster_too(
    owner: ArmCaller, client: TestClient, cluster: OidcIssuer
) -> None:
    path = f"{owner.group()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-web"
    identity = owner.ok(owner.put(path, {}), 201)["properties"]
    body = {"properties": {"issuer": cluster.url, "subject": "system:serviceaccount:shop:web"}}
    created = owner.ok(owner.put(f"{path}/federatedIdentityCredentials/web", body), 201)
    listed = owner.ok(owner.get(f"{path}/federatedIdentityCredentials"))["value"]

    assert created["properties"]["audiences"] == ["api://AzureADTokenExchange"]
    assert listed == [created]
    answer = _assertion_sign_in(client, identity["clientId"], cluster.kubernetes_token("shop", "web"))
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["oid"] == identity["principalId"]
    assert owner.delete(f"{path}/federatedIdentityCredentials/web").status_code == 200
    assert (
        _assertion_sign_in(client, identity["clientId"], cluster.kubernetes_token("shop", "web")).status_code
        == 401
    )
