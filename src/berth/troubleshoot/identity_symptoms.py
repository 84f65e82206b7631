"""The seed's fourth symptom — "the registry cannot be reached from a cluster, a pipeline or another
service" — in the words the secretless sign-ins fail with (azure-identity's and the directory's
``AADSTS`` messages, the managed identity endpoint's), each with its possible causes.
:data:`berth.troubleshoot.symptoms.SYMPTOMS` starts with these (they are the most specific)."""

from __future__ import annotations

from berth.troubleshoot.cause_model import SeedCause
from berth.troubleshoot.symptom_model import PossibleCause, Symptom
from berth.troubleshoot.symptom_model import patterns as _p

_LOGS = "berth acr logs login -n {registry} --status failed --since 1h"
_CHECK = "berth acr check-acr -n {registry}  (on the workload's host)"
_CREATE = "berth ad app federated-credential create --id <appId> --parameters '{...}'"

_ISSUER = PossibleCause(
    "No federated credential of the identity trusts the token's issuer (another cluster, a typo, a trailing "
    "slash).",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason federation_unknown_issuer); berth ad app federated-credential list --id <appId>",
    f"Add one with the issuer exactly as in the token's iss: {_CREATE}",
)
_SUBJECT = PossibleCause(
    "The token's subject (namespace and service account, repository and branch) matches no federated "
    "credential.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason federation_subject_mismatch names the subject presented)",
    f"Add a credential for that subject: {_CREATE}",
)
_AUDIENCE = PossibleCause(
    "The token was issued for another audience than api://AzureADTokenExchange.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason federation_audience_mismatch)",
    "Request the token for api://AzureADTokenExchange (projected token audience, CI id-token audience).",
)
_TIME = PossibleCause(
    "The federated token expired (a stale token file, an old job token), or the clocks of issuer and berth "
    "differ.",
    SeedCause.EXPIRED,
    f"{_LOGS}  (reason federation_assertion_expired or federation_clock_skew); {_CHECK}",
    "Present a fresh token; synchronise the clocks (NTP).",
)
_UNREACHABLE = PossibleCause(
    "The berth server cannot fetch the issuer's discovery document or keys.",
    SeedCause.NETWORK,
    f"{_LOGS}  (reason federation_issuer_unreachable names the URL and the error)",
    "Make <issuer>/.well-known/openid-configuration and its jwks_uri reachable from the berth server.",
)
_SIGNATURE = PossibleCause(
    "The assertion's signature does not verify: a token not from the issuer, or a certificate the service "
    "principal does not hold (replaced by credential reset --create-cert).",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason federation_bad_signature, certificate_unknown or certificate_expired)",
    "Use the issuer's own token, or the current certificate (berth ad sp credential reset --create-cert).",
)
_HOST = PossibleCause(
    "The host's IDENTITY_HEADER is not a current host credential, or it asks for an identity it was not "
    "given.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason host_secret_invalid or identity_not_assigned); berth identity host-credential list "
    "-n <identity> -g <group>",
    "berth identity host-credential create -n <identity> -g <group> --host <host>, then update the host.",
)

# The audience symptom first: its message also says "no matching federated identity record".
IDENTITY_SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "Federated token for another audience",
        _p(r"AADSTS700212", r"federation_audience_mismatch"),
        (_AUDIENCE,),
    ),
    Symptom(
        "Federated sign-in refused (cluster or pipeline)",
        _p(r"AADSTS70021", r"no matching federated identity record", r"federation_(unknown_issuer|subject)"),
        (_SUBJECT, _ISSUER),
    ),
    Symptom(
        "Client assertion outside its valid time",
        _p(r"AADSTS700024", r"not within its valid time range", r"federation_(assertion_expired|clock_skew)"),
        (_TIME,),
    ),
    Symptom(
        "The directory cannot reach the token's issuer",
        _p(r"AADSTS50166", r"external oidc endpoint failed", r"federation_issuer_unreachable"),
        (_UNREACHABLE,),
    ),
    Symptom(
        "Client assertion signature rejected",
        _p(r"AADSTS700027", r"failed signature validation", r"certificate_(unknown|expired)"),
        (_SIGNATURE,),
    ),
    Symptom(
        "Managed identity endpoint refused the host",
        _p(
            r"x-identity-header is missing or not valid",
            r"is not assigned to this host",
            r"host_secret_invalid",
        ),
        (_HOST,),
    ),
)
