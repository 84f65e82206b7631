"""Certificate credentials: public certificates of a service principal, and the client
assertions signed with their private keys (``x5t`` / ``x5t#S256`` name the certificate).

berth stores only the certificate; the private key stays with whoever created it.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from berth.access.model import Identity
from berth.access.tokens import LEEWAY_SECONDS
from berth.directory.service import SignInFailure
from berth.metadata import key_credentials as key_rows
from berth.metadata.database import Database
from berth.metadata.identities import IdentityRecord
from berth.metadata.key_credentials import KeyCredentialRecord

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class CertificateError(ValueError):
    """The text given is not a usable X.509 certificate."""


@dataclass(frozen=True)
class ParsedCertificate:
    pem: str
    thumbprint_sha1: str  # hex, upper case
    thumbprint_sha256: str  # base64url, unpadded
    not_after: float


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def parse_certificate(text: str) -> ParsedCertificate:
    """A PEM certificate, or base64 DER (Graph's keyCredentials ``key``)."""
    try:
        if "-----BEGIN CERTIFICATE-----" in text:
            certificate = x509.load_pem_x509_certificate(text.encode())
        else:
            certificate = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise CertificateError(f"not an X.509 certificate: {exc}") from None
    if "-----BEGIN" in text and "PRIVATE KEY" in text:
        raise CertificateError("send the public certificate only, never the private key")
    return ParsedCertificate(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint_sha1=certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303  (x5t is SHA-1)
        thumbprint_sha256=b64url(certificate.fingerprint(hashes.SHA256())),
        not_after=certificate.not_valid_after_utc.timestamp(),
    )


def _failure(reason: str, code: int, description: str, identity: Identity, detail: str) -> SignInFailure:
    return SignInFailure("invalid_client", code, description, reason, identity, detail, status=401)


def _matching(header: dict[str, Any], stored: list[KeyCredentialRecord]) -> KeyCredentialRecord | None:
    sha256 = header.get("x5t#S256")
    x5t = header.get("x5t")
    for record in stored:
        if isinstance(sha256, str) and sha256 == record.thumbprint_sha256:
            return record
        if isinstance(x5t, str):
            try:
                raw = base64.urlsafe_b64decode(x5t + "=" * (-len(x5t) % 4))
            except ValueError:
                continue
            if raw.hex().upper() == record.thumbprint_sha1:
                return record
    return None


class CertificateAssertions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def verify(
        self,
        record: IdentityRecord,
        identity: Identity,
        assertion: str,
        header: dict[str, Any],
        token_audiences: tuple[str, ...],
    ) -> IdentityRecord | SignInFailure:
        stored = await self._db.read(key_rows.list_for, record.id)
        match = _matching(header, stored)
        if match is None:
            return _failure(
                "certificate_unknown",
                700_027,
                "Client assertion failed signature validation: the key was not found. "
                f"Thumbprint of key used by client: '{header.get('x5t') or header.get('x5t#S256')}'.",
                identity,
                f"the assertion names a certificate (x5t {header.get('x5t')!r}) that service principal "
                f"{record.app_id} does not hold ({len(stored)} certificate(s) registered)",
            )
        if match.expires_at <= time.time():
            return _failure(
                "certificate_expired",
                700_027,
                "Client assertion contains an expired certificate.",
                identity,
                f"the certificate {match.thumbprint_sha1} of service principal {record.app_id} expired on "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(match.expires_at))}",
            )
        public_key = x509.load_pem_x509_certificate(match.certificate_pem.encode()).public_key()
        try:
            jwt.decode(
                assertion,
                public_key,  # type: ignore[arg-type]
                algorithms=ALGORITHMS,
                audience=list(token_audiences),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.InvalidAudienceError:
            return _failure(
                "certificate_assertion_invalid",
                700_021,
                "Client assertion audience claim does not match Realm issuer.",
                identity,
                f"the certificate assertion's audience is not this token endpoint ({token_audiences[0]})",
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as exc:
            return _failure(
                "certificate_assertion_invalid",
                700_024,
                "Client assertion is not within its valid time range.",
                identity,
                f"the certificate assertion is outside its lifetime ({exc}); check the clocks",
            )
        except jwt.PyJWTError as exc:
            return _failure(
                "certificate_assertion_invalid",
                700_027,
                "Client assertion failed signature validation.",
                identity,
                f"the certificate assertion of service principal {record.app_id} does not verify: {exc}",
            )
        return record
