"""Causes of refused secretless sign-ins: federated tokens (clusters, CI pipelines) and
certificate assertions. Keyed by the machine reason of the login event, like
:data:`berth.troubleshoot.causes.REASONS`, which includes them.
"""

from __future__ import annotations

from berth.troubleshoot.cause_model import Cause, SeedCause

_CREATE = (
    "berth ad app federated-credential create --id {identity} --parameters "
    '\'{{"name": "<name>", "issuer": "<issuer URL>", "subject": "<subject>"}}\''
)

IDENTITY_REASONS: dict[str, Cause] = {
    "federation_unknown_issuer": Cause(
        "FEDERATION_UNKNOWN_ISSUER",
        SeedCause.INVALID_CREDENTIALS,
        "{identity_kind} '{identity}' does not trust the issuer of the presented token: {detail}.",
        f"Add a federated credential for that issuer (the cluster's or CI's OIDC issuer URL): {_CREATE}",
    ),
    "federation_issuer_unreachable": Cause(
        "FEDERATION_ISSUER_UNREACHABLE",
        SeedCause.NETWORK,
        "The berth server could not fetch the OIDC discovery document or keys of the token's issuer: "
        "{detail}.",
        "Make <issuer>/.well-known/openid-configuration and its jwks_uri reachable over https from the berth "
        "server, or correct the issuer: berth ad app federated-credential list --id {identity}",
    ),
    "federation_subject_mismatch": Cause(
        "FEDERATION_SUBJECT_MISMATCH",
        SeedCause.INVALID_CREDENTIALS,
        "The token's subject is not trusted: {detail}.",
        "Add a federated credential with exactly that subject (Kubernetes: "
        "system:serviceaccount:<namespace>:<service account>; GitHub Actions: "
        f"repo:<owner>/<repo>:ref:refs/heads/<branch>): {_CREATE}",
    ),
    "federation_audience_mismatch": Cause(
        "FEDERATION_AUDIENCE_MISMATCH",
        SeedCause.INVALID_CREDENTIALS,
        "The token was issued for another audience: {detail}.",
        "Issue the token for api://AzureADTokenExchange (Kubernetes: the projected token's audience; "
        "GitHub Actions: the id-token audience), or list its audience in the federated credential.",
    ),
    "federation_assertion_expired": Cause(
        "FEDERATION_TOKEN_EXPIRED",
        SeedCause.EXPIRED,
        "The federated token presented has expired: {detail}.",
        "Present a fresh token: re-read the projected token file on every sign-in (the kubelet rotates it) "
        "or request a new ID token in the CI job.",
    ),
    "federation_clock_skew": Cause(
        "FEDERATION_CLOCK_SKEW",
        SeedCause.EXPIRED,
        "The federated token is not valid yet: {detail}.",
        "Synchronise the clocks of the issuer and the berth server (NTP: sudo timedatectl set-ntp true).",
    ),
    "federation_bad_signature": Cause(
        "FEDERATION_BAD_SIGNATURE",
        SeedCause.INVALID_CREDENTIALS,
        "The federated token's signature does not verify: {detail}.",
        "Present a token signed by the issuer itself (not re-signed or altered); if the issuer just rotated "
        "its keys, retry after 30 seconds.",
    ),
    "assertion_invalid": Cause(
        "CLIENT_ASSERTION_INVALID",
        SeedCause.INVALID_CREDENTIALS,
        "The client assertion is not usable: {detail}.",
        "Send a signed JWT as client_assertion with client_assertion_type "
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer (azure-identity does).",
    ),
    "certificate_unknown": Cause(
        "CERTIFICATE_NOT_REGISTERED",
        SeedCause.INVALID_CREDENTIALS,
        "{detail}.",
        "berth ad sp credential reset --id {identity} --create-cert  (and use the certificate it writes)",
    ),
    "certificate_expired": Cause(
        "CERTIFICATE_EXPIRED",
        SeedCause.EXPIRED,
        "{detail}.",
        "berth ad sp credential reset --id {identity} --create-cert",
    ),
    "certificate_assertion_invalid": Cause(
        "CERTIFICATE_ASSERTION_INVALID",
        SeedCause.INVALID_CREDENTIALS,
        "{detail}.",
        "Sign a fresh assertion with the certificate's key for this token endpoint (azure-identity's "
        "CertificateCredential does), and check the clocks.",
    ),
    "host_secret_invalid": Cause(
        "MANAGED_IDENTITY_HOST_SECRET_INVALID",
        SeedCause.INVALID_CREDENTIALS,
        "The host's IDENTITY_HEADER is not a host credential of any managed identity (wrong, replaced or "
        "deleted): {detail}.",
        "berth identity host-credential create -n <identity> -g <group> --host <host>  (then set "
        "IDENTITY_ENDPOINT and IDENTITY_HEADER on the host to what it prints)",
    ),
    "identity_not_assigned": Cause(
        "MANAGED_IDENTITY_NOT_ASSIGNED",
        SeedCause.NOT_AUTHORIZED,
        "{detail}.",
        "Ask for the identity the host holds (or none), or give the host a credential of the other "
        "identity: berth identity host-credential create -n <identity> -g <group> --host <host>",
    ),
}
