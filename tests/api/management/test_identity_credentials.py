"""Federated identity credentials and certificates of service principals, Graph-shaped:
``/v1.0/applications/{id}/federatedIdentityCredentials`` and
``/v1.0/servicePrincipals/{id}/keyCredentials`` (+ ``addKeyCredential``/``removeKeyCredential``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.api.management.arm import ArmCaller, assert_arm_error

ISSUER = "https://oidc.cluster.example/abc"
SUBJECT = "system:serviceaccount:apps:builder"


def _federated(sp_id: str) -> str:
    return f"/v1.0/applications/{sp_id}/federatedIdentityCredentials"


def _certificate_pem(days: float = 30) -> tuple[str, str]:
    """A self-signed certificate valid from a day ago for ``days`` from now (negative: expired)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ci")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=abs(days) + 1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), private


def test_create_list_get_and_delete_a_federated_credential(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("cluster-puller")
    body = {"name": "aks-builder", "issuer": ISSUER, "subject": SUBJECT, "description": "CI"}

    created = owner.ok(owner.post(_federated(sp["appId"]), body), 201)
    listed = owner.ok(owner.get(_federated(sp["id"])))["value"]
    by_name = owner.ok(owner.get(f"{_federated(sp['id'])}/AKS-builder"))

    assert created["audiences"] == ["api://AzureADTokenExchange"]
    assert {k: created[k] for k in ("name", "issuer", "subject", "description")} == body
    assert listed == [created]
    assert by_name == created
    assert owner.delete(f"{_federated(sp['id'])}/{created['id']}").status_code == 204
    assert owner.ok(owner.get(_federated(sp["id"])))["value"] == []
    assert_arm_error(owner.get(f"{_federated(sp['id'])}/aks-builder"), 404, "ResourceNotFound")


def test_federated_credentials_are_validated(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("validated")
    path = _federated(sp["id"])
    good = {"name": "one", "issuer": ISSUER, "subject": SUBJECT}
    owner.ok(owner.post(path, good), 201)

    cases = {
        "bad name": ({**good, "name": "-x"}, 400, "InvalidParameter"),
        "plain http": ({**good, "name": "two", "issuer": "http://oidc.example"}, 400, "InvalidParameter"),
        "no subject": ({**good, "name": "two", "subject": ""}, 400, "InvalidParameter"),
        "two audiences": ({**good, "name": "two", "audiences": ["a", "b"]}, 400, "InvalidParameter"),
        "same name": ({**good, "subject": "other"}, 409, "AlreadyExists"),
        "same issuer+subject": ({**good, "name": "two"}, 409, "AlreadyExists"),
    }
    for label, (body, status, code) in cases.items():
        assert assert_arm_error(owner.post(path, body), status, code), label
    loopback = {**good, "name": "local", "issuer": "http://127.0.0.1:8080/issuer"}
    assert owner.post(path, loopback).status_code == 201


def test_only_contributors_change_federated_credentials(
    owner: ArmCaller, principal: Callable[..., ArmCaller]
) -> None:
    sp, _ = owner.create_service_principal("guarded")
    reader = principal("Reader")
    body = {"name": "one", "issuer": ISSUER, "subject": SUBJECT}

    assert_arm_error(reader.post(_federated(sp["id"]), body), 403, "AuthorizationFailed")
    assert reader.ok(reader.get(_federated(sp["id"])))["value"] == []


def test_add_list_and_remove_certificates(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("cert-holder")
    first, _ = _certificate_pem()
    second, _ = _certificate_pem()
    path = f"/v1.0/servicePrincipals/{sp['id']}"

    one = owner.ok(owner.post(f"{path}/addKeyCredential", {"keyCredential": {"key": first}}))
    two = owner.ok(owner.post(f"{path}/addKeyCredential", {"keyCredential": {"key": second}, "append": True}))
    listed = owner.ok(owner.get(f"{path}/keyCredentials"))["value"]
    thumbprint = x509.load_pem_x509_certificate(first.encode()).fingerprint(hashes.SHA1()).hex().upper()

    assert [k["keyId"] for k in listed] == [one["keyId"], two["keyId"]]
    assert one["customKeyIdentifier"] == thumbprint
    assert one["type"] == "AsymmetricX509Cert"
    assert owner.post(f"{path}/removeKeyCredential", {"keyId": one["keyId"]}).status_code == 204
    replaced = owner.ok(owner.post(f"{path}/addKeyCredential", {"keyCredential": {"key": first}}))
    assert [k["keyId"] for k in owner.ok(owner.get(f"{path}/keyCredentials"))["value"]] == [replaced["keyId"]]


def test_a_private_key_or_garbage_is_refused(owner: ArmCaller) -> None:
    sp, _ = owner.create_service_principal("careful")
    certificate, private = _certificate_pem()
    path = f"/v1.0/servicePrincipals/{sp['id']}/addKeyCredential"

    with_key = owner.post(path, {"keyCredential": {"key": certificate + private}})
    garbage = owner.post(path, {"keyCredential": {"key": "not a certificate"}})

    assert "private key" in assert_arm_error(with_key, 400, "InvalidParameter")
    assert_arm_error(garbage, 400, "InvalidParameter")
    assert owner.ok(owner.get(f"/v1.0/servicePrincipals/{sp['id']}/keyCredentials"))["value"] == []
