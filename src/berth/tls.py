"""A local certificate authority and a server certificate, for serving HTTPS without a public CA.

``berth tls init`` uses these functions to write four PEM files into one folder (by default
``<data_dir>/tls/``, where ``berth serve`` picks up the server pair on its own):

- ``ca.crt`` — the CA certificate clients are told to trust;
- ``ca.key`` — the CA's private key, kept to issue new server certificates (mode 0600);
- ``server.crt`` — the server certificate for ``<domain>``, ``*.<domain>``, ``localhost`` and
  ``127.0.0.1``, followed by the CA certificate (the chain a TLS server sends);
- ``server.key`` — the server's private key (mode 0600).

An existing CA in the folder is reused, so clients that already trust it keep working when the
server certificate is issued again (for another domain, or before it expires).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from berth.config import TLS_CERT_FILE, TLS_KEY_FILE

CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"
DEFAULT_SERVER_DAYS = 365
CA_DAYS = 10 * 365
_BACKDATE = datetime.timedelta(hours=1)  # tolerate clients whose clocks run a little behind

PrivateKey = ec.EllipticCurvePrivateKey


class TlsError(ValueError):
    """The folder holds files that cannot be used (a CA without its key, an expiring CA, ...)."""


@dataclass(frozen=True)
class TlsFiles:
    folder: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    names: tuple[str, ...]
    not_after: datetime.datetime
    ca_created: bool

    @classmethod
    def in_folder(cls, folder: Path) -> tuple[Path, Path, Path, Path]:
        return (folder / CA_CERT_FILE, folder / CA_KEY_FILE, folder / TLS_CERT_FILE, folder / TLS_KEY_FILE)


def server_names(domain: str, registries: Sequence[str] = ()) -> tuple[str, ...]:
    """The subject alternative names: ``<domain>``, ``*.<domain>``, ``<registry>.<domain>`` for
    each of ``registries``, ``localhost``, ``127.0.0.1``.

    The explicit names matter for a single-label domain such as ``localhost``: OpenSSL (curl,
    Python, az) refuses a wildcard directly over one label, so ``*.localhost`` covers nothing.
    """
    domain = domain.lower().rstrip(".")
    explicit = [f"{name.lower()}.{domain}" for name in registries]
    names = [domain, f"*.{domain}", *explicit, "localhost", "127.0.0.1"]
    return tuple(dict.fromkeys(names))


def wildcard_refused(domain: str) -> bool:
    """Whether TLS clients refuse ``*.<domain>`` (a single-label domain such as ``localhost``)."""
    return "." not in domain.strip(".")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def create_ca(
    days: int = CA_DAYS, common_name: str = "berth local CA"
) -> tuple[PrivateKey, x509.Certificate]:
    key = new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "berth"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def create_server_certificate(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    domain: str,
    days: int = DEFAULT_SERVER_DAYS,
    registries: Sequence[str] = (),
) -> tuple[PrivateKey, x509.Certificate]:
    """A key and a certificate for :func:`server_names` of ``domain``, signed by the CA."""
    if days < 1:
        raise TlsError("days: a certificate must be valid for at least 1 day")
    now = _now()
    not_after = now + datetime.timedelta(days=days)
    if not_after > ca_cert.not_valid_after_utc:
        raise TlsError(
            f"the CA expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}, before a {days}-day server "
            "certificate would; use fewer days, or create a new CA (--new-ca)"
        )
    key = new_key()
    public = key.public_key()
    names = server_names(domain, registries)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, private: bool) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, 0o600 if private else 0o644)
    temporary.replace(path)


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_der(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(*_SPKI)


def load_ca(folder: Path) -> tuple[PrivateKey, x509.Certificate] | None:
    """The CA in ``folder``, or None when there is none; TlsError for half a CA."""
    cert_path, key_path = folder / CA_CERT_FILE, folder / CA_KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        return None
    if not cert_path.exists() or not key_path.exists():
        present = cert_path if cert_path.exists() else key_path
        raise TlsError(f"{present} exists without its pair; remove it or use --new-ca")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{key_path} is not a key berth wrote; use --new-ca")
    if _public_der(key) != cert.public_key().public_bytes(*_SPKI):
        raise TlsError(f"{key_path} is not the key of {cert_path}; use --new-ca")
    return key, cert


def init_folder(
    folder: Path,
    domain: str,
    days: int = DEFAULT_SERVER_DAYS,
    *,
    new_ca: bool = False,
    registries: Sequence[str] = (),
) -> TlsFiles:
    """Write (or reuse) the CA and issue a fresh server certificate into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path, server_cert_path, server_key_path = TlsFiles.in_folder(folder)
    existing = None if new_ca else load_ca(folder)
    if existing is None:
        ca_key, ca_cert = create_ca(max(CA_DAYS, days + 1))
        _write(ca_key_path, key_pem(ca_key), private=True)
        _write(ca_cert_path, cert_pem(ca_cert), private=False)
    else:
        ca_key, ca_cert = existing
    key, cert = create_server_certificate(ca_key, ca_cert, domain, days, registries)
    _write(server_key_path, key_pem(key), private=True)
    _write(server_cert_path, cert_pem(cert) + cert_pem(ca_cert), private=False)
    return TlsFiles(
        folder=folder,
        ca_cert=ca_cert_path,
        ca_key=ca_key_path,
        server_cert=server_cert_path,
        server_key=server_key_path,
        names=server_names(domain, registries),
        not_after=cert.not_valid_after_utc,
        ca_created=existing is None,
    )
