"""Client assertions at the token endpoint: a signed JWT in place of a client secret.

``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` with
``client_assertion=<JWT>`` is either
- a **federated** token from an external OIDC issuer (a Kubernetes service account, a CI job),
  trusted through a federated identity credential of the service principal; or
- a **certificate** assertion the client signed itself (``iss`` = ``sub`` = the client id),
  checked against the service principal's certificates (see :mod:`berth.directory.certificates`).

Every refusal carries a distinct machine reason for the login events (``federation_*``,
``certificate_*``), explained by :data:`berth.troubleshoot.identity_causes.IDENTITY_REASONS`.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from sqlalchemy import Connection

from berth.access.model import Identity, IdentityKind
from berth.access.principals import GUID
from berth.access.tokens import LEEWAY_SECONDS
from berth.directory.certificates import CertificateAssertions
from berth.directory.issuers import IssuerKeys, IssuerUnreachable, UnknownKey
from berth.directory.service import SignInFailure
from berth.metadata import federated as federated_rows
from berth.metadata import identities as identity_rows
from berth.metadata.database import Database
from berth.metadata.federated import FederatedCredentialRecord
from berth.metadata.identities import IdentityRecord
from berth.metadata.managed_identities import MANAGED_IDENTITY

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_MAX_ASSERTION = 16 * 1024


def _failure(
    reason: str, code: int, description: str, identity: Identity, detail: str, error: str = "invalid_client"
) -> SignInFailure:
    return SignInFailure(error, code, description, reason, identity, detail, status=401)


def _claims_text(claims: dict[str, Any]) -> str:
    return (
        f"Assertion Issuer: '{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. "
        f"Assertion Audience: '{claims.get('aud')}'."
    )


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [str(a) for a in aud] if isinstance(aud, list) else []


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class ClientAssertions:
    def __init__(self, db: Database, keys: IssuerKeys | None = None) -> None:
        self._db = db
        self._keys = keys or IssuerKeys()
        self._certificates = CertificateAssertions(db)

    async def sign_in(
        self, client_id: str, assertion_type: str, assertion: str, token_audiences: tuple[str, ...]
    ) -> IdentityRecord | SignInFailure:
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, client_id)
        if assertion_type != ASSERTION_TYPE:
            return _failure(
                "assertion_invalid",
                700_023,
                f"Invalid client_assertion_type '{assertion_type}'; use '{ASSERTION_TYPE}'.",
                identity,
                f"unsupported client_assertion_type {assertion_type!r}",
                error="invalid_request",
            )
        try:
            if len(assertion) > _MAX_ASSERTION:
                raise jwt.DecodeError("too large")
            header = jwt.get_unverified_header(assertion)
            claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _failure(
                "assertion_invalid",
                50_027,
                "JWT token is invalid or malformed.",
                identity,
                "the client assertion is not a well-formed JWT",
            )
        record = await self._db.read(_service_principal, client_id)
        if record is None:
            return _failure(
                "unknown_identity",
                700_016,
                f"Application with identifier '{client_id}' was not found in the directory.",
                identity,
                f"no service principal has application id {client_id}",
            )
        identity = Identity(IdentityKind.SERVICE_PRINCIPAL, client_id, record.id)
        if claims.get("iss") == client_id and claims.get("sub") == client_id:
            result = await self._certificates.verify(record, identity, assertion, header, token_audiences)
        else:
            result = await self._federated(record, identity, assertion, header, claims)
        if isinstance(result, SignInFailure):
            return result
        if not record.enabled:
            return _failure(
                "identity_disabled",
                7_000_112,
                f"Application '{client_id}' is disabled.",
                identity,
                f"service principal {client_id} is disabled",
                error="unauthorized_client",
            )
        return record

    async def _federated(
        self,
        record: IdentityRecord,
        identity: Identity,
        assertion: str,
        header: dict[str, Any],
        claims: dict[str, Any],
    ) -> IdentityRecord | SignInFailure:
        issuer = str(claims.get("iss") or "")
        credentials = await self._db.read(federated_rows.list_for, record.id)
        trusted = [c for c in credentials if c.issuer == issuer]
        name = record.app_id
        if not trusted:
            known = ", ".join(sorted({c.issuer for c in credentials})) or "none"
            return _failure(
                "federation_unknown_issuer",
                70_021,
                "No matching federated identity record found for presented assertion. "
                + _claims_text(claims),
                identity,
                f"service principal {name} trusts no issuer {issuer!r} (trusted issuers: {known})",
            )
        try:
            key = await self._keys.key(issuer, header.get("kid"))
        except IssuerUnreachable as exc:
            return _failure(
                "federation_issuer_unreachable",
                50_166,
                f"Request to External OIDC endpoint failed. {_claims_text(claims)}",
                identity,
                f"the keys of issuer {issuer} could not be fetched: {exc}",
            )
        except UnknownKey as exc:
            return _bad_signature(identity, claims, str(exc))
        try:
            jwt.decode(
                assertion,
                key,
                algorithms=ALGORITHMS,
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            return _time_failure(
                "federation_assertion_expired",
                identity,
                claims,
                f"the assertion from {issuer} expired at {_when(float(claims.get('exp', 0)))}"
                f" (berth's time {_when(time.time())})",
            )
        except jwt.ImmatureSignatureError:
            start = max(float(claims.get("nbf") or 0), float(claims.get("iat") or 0))
            return _time_failure(
                "federation_clock_skew",
                identity,
                claims,
                f"the assertion from {issuer} is valid only from {_when(start)}, "
                f"{round(start - time.time())} s ahead of berth's clock ({_when(time.time())}): "
                "the clocks differ",
            )
        except jwt.InvalidSignatureError:
            return _bad_signature(
                identity, claims, f"the signature does not verify with the keys of {issuer}"
            )
        except jwt.PyJWTError as exc:
            return _failure(
                "assertion_invalid",
                50_027,
                "JWT token is invalid or malformed.",
                identity,
                f"the assertion from {issuer} is not valid: {exc}",
            )
        return _match_subject_and_audience(record, identity, trusted, claims)


def _match_subject_and_audience(
    record: IdentityRecord,
    identity: Identity,
    trusted: list[FederatedCredentialRecord],
    claims: dict[str, Any],
) -> IdentityRecord | SignInFailure:
    subject = str(claims.get("sub") or "")
    for_subject = [c for c in trusted if c.subject == subject]
    if not for_subject:
        configured = ", ".join(repr(c.subject) for c in trusted)
        return _failure(
            "federation_subject_mismatch",
            70_021,
            f"No matching federated identity record found for presented assertion subject. "
            f"{_claims_text(claims)}",
            identity,
            f"subject {subject!r} from {claims.get('iss')} matches no federated credential of service "
            f"principal {record.app_id} (configured subjects: {configured})",
        )
    presented = _audiences(claims)
    if not any(aud in c.audiences for c in for_subject for aud in presented):
        configured = ", ".join(sorted({a for c in for_subject for a in c.audiences}))
        return _failure(
            "federation_audience_mismatch",
            700_212,
            f"No matching federated identity record found for presented assertion audience. "
            f"{_claims_text(claims)}",
            identity,
            f"audience {presented} of the assertion from {claims.get('iss')} is none of {configured} "
            f"(federated credential {for_subject[0].name} of service principal {record.app_id})",
        )
    return record


def _bad_signature(identity: Identity, claims: dict[str, Any], detail: str) -> SignInFailure:
    return _failure(
        "federation_bad_signature",
        700_027,
        f"Client assertion failed signature validation. {_claims_text(claims)}",
        identity,
        detail,
    )


def _time_failure(reason: str, identity: Identity, claims: dict[str, Any], detail: str) -> SignInFailure:
    return _failure(
        reason,
        700_024,
        f"Client assertion is not within its valid time range. {_claims_text(claims)}",
        identity,
        detail,
    )


def _service_principal(conn: Connection, client_id: str) -> IdentityRecord | None:
    record = identity_rows.by_app_id(conn, client_id) if GUID.match(client_id) else None
    if record is None or record.kind not in (identity_rows.SERVICE_PRINCIPAL, MANAGED_IDENTITY):
        return None
    return record
