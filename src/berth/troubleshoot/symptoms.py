"""From an error message a user saw to the causes that produce it and the checks that tell
them apart. Covers the seed article's symptoms in docker's, podman's and az's wording.
"""

from __future__ import annotations

from berth.troubleshoot.cause_model import SeedCause
from berth.troubleshoot.causes import QUOTA_FIX
from berth.troubleshoot.identity_symptoms import IDENTITY_SYMPTOMS
from berth.troubleshoot.symptom_model import PossibleCause, Symptom
from berth.troubleshoot.symptom_model import patterns as _p

_HEALTH = "berth acr check-health -n {registry} --yes"
_LOGS = "berth acr logs login -n {registry} --status failed --since 1h"

_WRONG_CREDENTIALS = PossibleCause(
    "The user name or password is wrong (admin password regenerated, token password or SP secret mistyped).",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason bad_secret or unknown_identity)",
    "Use current credentials: berth acr credential renew, berth acr token credential generate, "
    "or berth ad sp credential reset.",
    codes=("WRONG_SECRET", "UNKNOWN_IDENTITY", "CREDENTIALS_REJECTED"),
)
_EXPIRED = PossibleCause(
    "The credentials expired: a token password or service principal secret past its expiry, or a refresh "
    "token older than 3 hours.",
    SeedCause.EXPIRED,
    f"{_LOGS}  (reason secret_expired or token_expired)",
    "berth acr login -n {registry} again, or generate new credentials.",
    codes=("CREDENTIAL_EXPIRED", "TOKEN_EXPIRED", "DOCKER_IDENTITY_TOKEN_EXPIRED"),
)
_CASE = PossibleCause(
    "The login server was typed with upper-case letters; docker stores and sends credentials per exact host.",
    SeedCause.REGISTRY_NAME,
    f"{_HEALTH}  (DOCKER_CONFIG_HOST_CASE)",
    "Use the lower-case login server: docker login {login_server}",
    codes=("DOCKER_CONFIG_HOST_CASE", "ANONYMOUS_PULL_DISABLED"),
)
_STALE = PossibleCause(
    "Stale stored credentials: docker sends an old login to a registry that allows anonymous pull, and the "
    "registry rejects them instead of treating you as anonymous.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_HEALTH}  (DOCKER_CONFIG_STALE_CREDENTIALS)",
    "docker logout {login_server}",
    codes=("DOCKER_CONFIG_STALE_CREDENTIALS",),
)
_NOT_AUTHORIZED = PossibleCause(
    "The identity is authenticated but lacks the action: a role without push (AcrPull), a token whose scope "
    "map lacks the repository or action, or a repository lock (writeEnabled/deleteEnabled false).",
    SeedCause.NOT_AUTHORIZED,
    f"{_LOGS}  (reason insufficient_scope shows requested vs granted); "
    "berth role assignment list --assignee {identity} --all -o table",
    "Grant the role (AcrPush for push, AcrDelete for delete) or extend the scope map.",
    codes=("NOT_AUTHORIZED",),
)
_NO_ROLE = PossibleCause(
    "The user or service principal has no role at all on this registry.",
    SeedCause.NOT_AUTHORIZED,
    f"{_LOGS}  (reason no_role); berth role assignment list --assignee {{identity}} --all -o table",
    "berth role assignment create --assignee {identity} --role AcrPull --scope {registry_id}",
    codes=("NO_ROLE",),
)
_PUBLIC_OFF = PossibleCause(
    "Public network access to the registry is disabled: no client outside a private endpoint gets in, "
    "whatever its IP.",
    SeedCause.NETWORK,
    "berth acr show -n {registry} --query publicNetworkAccess  (Disabled)",
    "berth acr update -n {registry} --public-network-enabled true; berth acr network-rule add -n {registry} "
    "--ip-address <your IP>",
    codes=("PUBLIC_ACCESS_DISABLED",),
)
_FIREWALL = PossibleCause(
    "The registry's network rules do not allow this client's IP.",
    SeedCause.NETWORK,
    "berth acr show -n {registry} --query networkRuleSet; " + _HEALTH,
    "berth acr network-rule add -n {registry} --ip-address <your IP>",
    codes=("FIREWALL",),
)
_REFUSED = PossibleCause(
    "Nothing listens at the login server's address: the berth service is not running, or not listening "
    "on that host and port (or the port is wrong).",
    SeedCause.REGISTRY_NAME,
    "curl -sS -o /dev/null -w '%{http_code}' {scheme}://{login_server}/v2/  (401 when berth listens there); "
    "berth acr show -n {registry} --query loginServer",
    "Start the service (berth serve) or use the login server and port it listens on.",
)
_DISABLED = PossibleCause(
    "The identity is disabled: a token with status disabled, a service principal disabled or deleted, or a "
    "directory user disabled (also after a successful berth acr login: its refresh token stops working).",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason identity_disabled); berth acr token show -r {{registry}} -n <token> --query status; "
    "berth ad sp show --id <appId> --query accountEnabled; berth ad user show --id <upn> --query accountEnabled",
    "berth acr token update -r {registry} -n <token> --status enabled, berth ad sp update --id <appId> --set "
    "accountEnabled=true, or berth ad user update --id <upn> --account-enabled true",
    codes=("IDENTITY_DISABLED",),
)
_NULL_GUID = PossibleCause(
    "A registry token (from berth acr login --expose-token) was used as password with a user name other than "
    "00000000-0000-0000-0000-000000000000; such tokens only work with that null-GUID user name.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (a failure for the user name you gave instead of the token's identity)",
    "docker login {login_server} -u 00000000-0000-0000-0000-000000000000 --password-stdin  (the token on stdin)",
    codes=("UNKNOWN_IDENTITY", "WRONG_SECRET"),
)
_UNKNOWN_NAME = PossibleCause(
    "The user name is not a token of the registry, not the registry name (admin user), and not the appId of a "
    "service principal (e.g. a subscription id, an SP display name, or a token of another registry).",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason unknown_identity)",
    "Use the appId of the service principal (berth ad sp list -o table) or the token name.",
    codes=("UNKNOWN_IDENTITY",),
)
_WRONG_NAME = PossibleCause(
    "The registry does not exist or its name is misspelled; the login server is <name>.<domain>.",
    SeedCause.REGISTRY_NAME,
    "berth acr list -o table",
    "Use the login server shown by berth acr show -n {registry} --query loginServer",
)
_DOCKER = PossibleCause(
    "Docker is not installed, not on PATH, or its daemon is not running.",
    SeedCause.DOCKER,
    _HEALTH,
    "Install or start Docker (client 18.03+), or set DOCKER_COMMAND=podman.",
)
_TLS = PossibleCause(
    "The client does not trust the registry's certificate, or talks HTTPS to an HTTP registry.",
    SeedCause.DOCKER,
    _HEALTH + "  (CONNECTIVITY_SSL_ERROR)",
    "Trust berth's CA (docs/tls.md) or configure the registry as insecure for plain HTTP on loopback.",
)
_RATE = PossibleCause(
    "Too many failed authentications from this IP or for this identity; the registry refuses for a while.",
    SeedCause.INVALID_CREDENTIALS,
    f"{_LOGS}  (reason rate_limited, and the failures before it)",
    "Wait for the Retry-After period, fix the credentials, retry.",
    codes=("RATE_LIMITED",),
)
_CLOCK = PossibleCause(
    "The clocks of client and registry differ, so fresh tokens look expired or not yet valid.",
    SeedCause.EXPIRED,
    _HEALTH + "  (CLOCK_SKEW_ERROR)",
    "Synchronise the clock with NTP.",
    codes=("CLOCK_SKEW_ERROR",),
)
_ADMIN_DISABLED = PossibleCause(
    "The admin user is disabled, so the registry name no longer logs in.",
    SeedCause.INVALID_CREDENTIALS,
    "berth acr show -n {registry} --query adminUserEnabled  (false)",
    "berth acr update -n {registry} --admin-enabled true",
    codes=("ADMIN_USER_DISABLED",),
)

_MANAGEMENT = PossibleCause(
    "The identity may use the registry's content but not manage it: AcrPull, AcrPush and AcrDelete grant "
    "data-plane access only; the management API needs Reader (read), Contributor (change) or Owner.",
    SeedCause.NOT_AUTHORIZED,
    "berth role assignment list --assignee {identity} --all -o table",
    "berth role assignment create --assignee {identity} --role Contributor --scope {registry_id}",
)
_NOT_FOUND_OR_NO_ROLE = PossibleCause(
    "The registry does not exist, or it exists and you have no Reader, Contributor or Owner role on it: the "
    "management API answers ResourceNotFound to both (AcrPull, AcrPush and AcrDelete grant only the "
    "registry's content, which docker and berth acr login still reach).",
    SeedCause.NOT_AUTHORIZED,
    "The owner tells them apart: berth acr list -o table, then berth role assignment list --assignee "
    "{identity} --all -o table; you: berth acr login -n {registry} (works when the registry exists and "
    "you hold an Acr* role)",
    "berth role assignment create --assignee {identity} --role Reader --scope {registry_id}  (run by the "
    "owner), or use the right name",
)
_UNKNOWN_REGISTRY = PossibleCause(
    "The login server names a registry that does not exist on this berth service (a typo, or a registry "
    "that was deleted).",
    SeedCause.REGISTRY_NAME,
    "berth acr list -o table",
    "Use the login server shown by berth acr show -n {registry} --query loginServer",
    codes=("UNKNOWN_REGISTRY",),
)

_QUOTA = PossibleCause(
    "The registry is at its storage quota: a push whose new blobs would take it past the quota is "
    "refused (403 DENIED; docker prints 'denied: storage quota exceeded: ...' and does not retry). What was "
    "stored before is intact; pulls keep working.",
    SeedCause.STORAGE,
    "berth acr show-usage -n {registry} -o table  (Size: current value against limit); berth acr logs "
    "repository -n {registry} --status failed --since 1h  (reason storage_quota_exceeded)",
    QUOTA_FIX,
    codes=("STORAGE_QUOTA_EXCEEDED",),
)

# The secretless sign-ins' symptoms come first: they are the most specific.
SYMPTOMS: tuple[Symptom, ...] = (
    *IDENTITY_SYMPTOMS,
    Symptom(
        "Push refused: storage quota exceeded",
        _p(r"storage quota exceeded", r"storage_quota_exceeded", r"exceed (its|the) storage quota"),
        (_QUOTA,),
    ),
    Symptom(
        "Not authorized to manage the registry",
        _p(
            r"does not have authorization to perform action",
            r"authorizationfailed",
            r"grants access to the registry's content only",
        ),
        (_MANAGEMENT,),
    ),
    Symptom(
        "The registry was not found by the management API",
        _p(r"resourcenotfound", r"could not be found in subscription"),
        (_NOT_FOUND_OR_NO_ROLE, _UNKNOWN_REGISTRY),
    ),
    Symptom(
        "The registry does not exist",
        _p(
            r"registry '[^']*' does not exist",
            r"registry_unknown",
            r"failed with status: 404",
            r"login_server_error",
        ),
        (_UNKNOWN_REGISTRY, _WRONG_NAME),
    ),
    Symptom(
        "Application not registered with AAD",
        _p(r"application not registered with aad"),
        (_UNKNOWN_NAME, _WRONG_CREDENTIALS, _DISABLED, _NULL_GUID),
    ),
    Symptom(
        "403 Forbidden from the registry (firewall)",
        _p(
            r"403 forbidden",
            r"not allowed access",
            r"aka\.ms/acr/firewall",
            r"connectivity_forbidden_error",
            r"don't have access to registry",
        ),
        (_PUBLIC_OFF, _FIREWALL),
    ),
    Symptom(
        "retrieving permissions failed / refresh token denied",
        _p(
            r"retrieving permissions failed",
            r"connectivity_refresh_token_error",
            r"access to registry .* was denied",
        ),
        (_NO_ROLE, _DISABLED, _EXPIRED),
    ),
    Symptom(
        "Too many requests",
        _p(r"toomanyrequests", r"too many (failed|requests)", r"\b429\b"),
        (_RATE,),
    ),
    Symptom(
        "denied: requested access to the resource is denied",
        _p(
            r"requested access to the resource is denied",
            r"insufficient_scope",
            r"connectivity_access_token_error",
        ),
        (_NOT_AUTHORIZED, _STALE),
    ),
    Symptom(
        "pull access denied / repository does not exist",
        _p(r"pull access denied", r"repository does not exist", r"manifest unknown", r"name unknown"),
        (_WRONG_NAME, _NOT_AUTHORIZED, _STALE),
    ),
    Symptom(
        "unauthorized: authentication required",
        _p(
            r"authentication required",
            r"\bunauthorized\b",
            r"invalid username/password",
            r"authenticating creds",
        ),
        (_WRONG_CREDENTIALS, _EXPIRED, _DISABLED, _NULL_GUID, _CASE, _STALE, _ADMIN_DISABLED),
    ),
    Symptom(
        "Connection refused: nothing listens at the login server",
        _p(r"connection refused", r"connectivity_error.*refused"),
        (_REFUSED, _WRONG_NAME),
    ),
    Symptom(
        "Could not connect to the registry login server",
        _p(
            r"could not connect to the registry",
            r"no such host",
            r"dial tcp",
            r"name or service not known",
            r"connectivity_dns_error",
            r"i/o timeout",
        ),
        (_WRONG_NAME, _REFUSED),
    ),
    Symptom(
        "Docker is not available",
        _p(
            r"cannot connect to the docker daemon",
            r"docker: command not found",
            r"docker_command_error",
            r"docker_daemon_error",
            r"is the docker daemon running",
        ),
        (_DOCKER,),
    ),
    Symptom(
        "TLS / certificate problems",
        _p(r"x509", r"certificate", r"server gave http response to https client", r"ssl", r"tls"),
        (_TLS,),
    ),
    Symptom(
        "Token expired or not yet valid",
        _p(r"token (has )?expired", r"not valid yet", r"token is not valid", r"expired"),
        (_EXPIRED, _CLOCK),
    ),
)


def match(text: str) -> list[Symptom]:
    """The symptoms an error text shows, most specific first."""
    return [symptom for symptom in SYMPTOMS if symptom.matches(text)]
