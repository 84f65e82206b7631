"""Certificates for service principals, made where the CLI runs (az's ``--create-cert``).

The key pair is generated here; the private key and the certificate go to one PEM file, readable
by the owner only, and only the public certificate is sent to berth. berth never sees the key.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from berth.cli import context

KEY_BITS = 2048


def self_signed(common_name: str, years: float) -> tuple[str, str]:
    """(certificate PEM, private key PEM) of a new RSA key, valid from now for ``years``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "berth")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), private


def write_private(certificate: str, private: str, directory: Path | None = None) -> Path:
    """Key and certificate in one PEM file (mode 0600) under ``directory`` (default: home)."""
    folder = directory or Path.home()
    descriptor, name = tempfile.mkstemp(prefix="tmp", suffix=".pem", dir=folder)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(private + certificate)
    os.chmod(name, 0o600)
    return Path(name)


def add_certificate(sp: dict[str, Any], years: float, append: bool) -> Path:
    """A new certificate for ``sp`` (the others removed unless ``append``); returns the PEM file."""
    certificate, private = self_signed(str(sp.get("displayName") or sp.get("appId")), years)
    context.current().management.graph(
        "POST",
        f"/servicePrincipals/{sp['id']}/addKeyCredential",
        json={"keyCredential": {"key": certificate, "displayName": "CN=berth"}, "append": append},
    )
    return write_private(certificate, private)


def certificate_message(path: Path) -> str:
    return (
        f"Please copy {path} to a safe place. When you sign in with it, give the file path as the "
        "certificate (e.g. azure-identity's CertificateCredential(certificate_path=...))."
    )
