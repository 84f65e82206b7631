"""The catalogue of causes: the seed article's five causes, refined into the precise faults
berth can tell apart, each with one sentence of cause and the command that fixes it.

Findings of ``check-health`` and verdicts of ``diagnose`` both come from here, so a cause is
explained the same way wherever it is found. Codes are ACR's where ACR has one.
"""

from __future__ import annotations

from berth.troubleshoot.cause_model import Cause, SeedCause
from berth.troubleshoot.identity_causes import IDENTITY_REASONS

D, N, I, A, E, F = (  # noqa: E741 - short aliases keep the table readable
    SeedCause.DOCKER,
    SeedCause.REGISTRY_NAME,
    SeedCause.INVALID_CREDENTIALS,
    SeedCause.NOT_AUTHORIZED,
    SeedCause.EXPIRED,
    SeedCause.NETWORK,
)

QUOTA_FIX = (
    "Free space: delete what is no longer needed (berth acr repository delete -n {registry} --image "
    "<repository>:<tag>, or berth acr purge -n {registry} --filter '<repository>:.*' --ago 30d), then free "
    "the bytes now: berth acr gc -n {registry}; or raise the quota: berth acr update -n {registry} "
    "--storage-quota <size>  (berth acr show-usage -n {registry} -o table shows usage and limit)"
)

CAUSES: dict[str, Cause] = {
    c.code: c
    for c in (
        # --- the client environment -------------------------------------------------------
        Cause(
            "DOCKER_COMMAND_ERROR",
            D,
            "The docker client ({docker}) was not found.",
            "Install Docker (client 18.03 or later) and put it on PATH, or set DOCKER_COMMAND (e.g. podman).",
        ),
        Cause(
            "DOCKER_DAEMON_ERROR",
            D,
            "The docker daemon is not running or not reachable: {error}",
            "Start the daemon (sudo systemctl start docker) or point DOCKER_HOST at a running one.",
        ),
        Cause(
            "DOCKER_VERSION_ERROR",
            D,
            "Docker client version {version} is older than 18.03, which registry login needs.",
            "Upgrade the Docker client to 18.03 or later.",
        ),
        Cause(
            "DOCKER_PULL_ERROR",
            D,
            "Pulling {image} from the registry failed: {error}",
            "Check the daemon and the registry access reported above, then retry: {docker} pull {image}",
        ),
        Cause(
            "DOCKER_CONFIG_STALE_CREDENTIALS",
            I,
            "The docker configuration ({config_file}) holds credentials for {login_server} that the registry "
            "rejects ({reason}); docker sends them even though the registry allows anonymous pull.",
            "docker logout {login_server}",
        ),
        Cause(
            "DOCKER_CONFIG_INVALID_CREDENTIALS",
            I,
            "The credentials docker stored for {login_server} in {config_file} are rejected by the registry: {error}",
            "docker logout {login_server}, then log in again with valid credentials (berth acr login -n {registry}).",
        ),
        Cause(
            "DOCKER_CONFIG_HOST_CASE",
            N,
            "Docker keys credentials by the exact host, and {config_file} stores them under '{stored_host}', "
            "not the lower-case login server '{login_server}'.",
            "docker logout {stored_host} && berth acr login -n {registry} (always use lower case)",
        ),
        Cause(
            "DOCKER_IDENTITY_TOKEN_EXPIRED",
            E,
            "The identity token docker stored for {login_server} expired at {expired_at}; refresh tokens last "
            "3 hours.",
            "berth acr login -n {registry}",
        ),
        Cause(
            "DOCKER_CREDENTIAL_HELPER_ERROR",
            D,
            "The credential helper '{helper}' configured for {login_server} in {config_file} failed: {error}",
            "Install docker-credential-{helper} or remove it from {config_file}, then log in again.",
        ),
        Cause(
            "CLOCK_SKEW_ERROR",
            E,
            "This machine's clock is {skew} seconds off the registry's; tokens look expired or not yet valid.",
            "Synchronise the clock (e.g. enable NTP: sudo timedatectl set-ntp true).",
        ),
        Cause(
            "CLOCK_SKEW_WARNING",
            E,
            "This machine's clock is {skew} seconds off the registry's. The registry judges tokens by its own "
            "clock, so they still work; a client that checks expiry itself sees a 3-hour refresh token with "
            "{margin} left.",
            "Synchronise the clock (e.g. enable NTP: sudo timedatectl set-ntp true).",
        ),
        # --- the registry -----------------------------------------------------------------
        Cause(
            "REGISTRY_NAME_ERROR",
            N,
            "'{registry}' is not a valid registry name: {error}",
            "Use the registry's resource name (5-50 letters and digits): berth acr list -o table",
        ),
        Cause(
            "REGISTRY_NAME_CASE_WARNING",
            N,
            "The registry name '{registry}' has upper-case letters; docker keys credentials by exact host.",
            "Use the lower-case login server in docker commands: {login_server}",
        ),
        Cause(
            "LOGIN_SERVER_ERROR",
            N,
            "The login server of registry '{registry}' is unknown: {error}.",
            "Sign in to the service (berth login --server <url>) or set BERTH_SERVER, and check the name: "
            "berth acr list -o table",
        ),
        Cause(
            "REGISTRY_LOOKUP_WARNING",
            N,
            "Registry '{registry}' could not be looked up ({error}); checking the derived login server "
            "{login_server}.",
            "Check the spelling and that you may read it: berth acr list -o table",
        ),
        Cause(
            "CONNECTIVITY_DNS_ERROR",
            N,
            "The login server {login_server} does not resolve: {error}",
            "Check the name, or add '{host_ip} {host}' to /etc/hosts for a local berth.",
        ),
        Cause(
            "CONNECTIVITY_SSL_ERROR",
            F,
            "A secure connection to {login_server} failed: {error}",
            "Trust berth's CA (docs/tls.md: /etc/docker/certs.d/{login_server}/ca.crt, REQUESTS_CA_BUNDLE) "
            "or check the proxy.",
        ),
        Cause(
            "CONNECTIVITY_ERROR",
            N,
            "Could not connect to the registry login server {login_server}: {error}",
            "Verify that the registry exists and {scheme}://{login_server}/v2/ is reachable from here.",
        ),
        Cause(
            "CONNECTIVITY_REFUSED_ERROR",
            N,
            "Nothing listens at {login_server}: the berth service is not running, or not listening on that "
            "host and port ({error}).",
            "Start the service (berth serve), or use the login server and port it listens on: "
            "{scheme}://{login_server}/v2/ must answer 401.",
        ),
        Cause(
            "PUBLIC_ACCESS_DISABLED",
            F,
            "Public network access to registry {registry} is disabled: it refuses every client outside a "
            "private endpoint (client IP {client_ip}), whatever the IP rules say.",
            # Disabling public access also set the default action to Deny (as az does): allow this client too.
            "berth acr update -n {registry} --public-network-enabled true; berth acr network-rule add -n {registry} "
            "--ip-address {client_ip}",
        ),
        Cause(
            "CONNECTIVITY_FORBIDDEN_ERROR",
            F,
            "The registry refused this client by its network rules: client IP {client_ip} is not allowed.",
            "berth acr network-rule add -n {registry} --ip-address {client_ip}  "
            "(or berth acr update -n {registry} --public-network-enabled true)",
        ),
        Cause(
            "CONNECTIVITY_CHALLENGE_ERROR",
            N,
            "Registry {login_server} did not issue a challenge: {error}",
            "Check that {login_server} is a berth or ACR registry and not a proxy page.",
        ),
        Cause(
            "CONNECTIVITY_AAD_LOGIN_ERROR",
            N,
            "Registry {login_server} does not support directory login: {error}",
            "Use another authentication method (admin user or a token).",
        ),
        Cause(
            "UNKNOWN_REGISTRY",
            N,
            "No registry named '{registry}' exists on this berth service.",
            "berth acr list -o table  (or create it: berth acr create -n {registry} -g <group>)",
        ),
        # --- credentials ------------------------------------------------------------------
        Cause(
            "DIRECTORY_LOGIN_ERROR",
            E,
            "The berth CLI session is missing or no longer valid: {error}",
            "berth login -u <user>  (or berth login --service-principal -u <appId> -p <secret>)",
        ),
        Cause(
            "CREDENTIALS_REJECTED",
            I,
            "The registry rejected the credentials of '{identity}' (status {status}): {error}",
            "berth acr diagnose -n {scheme}://{login_server} --correlation-id {correlation_id}  (names the "
            "reason; no sign-in needed)",
        ),
        Cause(
            "CONNECTIVITY_REFRESH_TOKEN_ERROR",
            A,
            "Access to registry {login_server} was denied on token exchange (status {status}): {error}",
            "berth role assignment create --assignee {identity} --role AcrPull --scope {registry_id}",
        ),
        Cause(
            "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
            I,
            "Too many failed authentications from this client or identity; the registry refuses further tries "
            "for {retry_after} seconds.",
            "Wait {retry_after} seconds, then retry with the correct credentials.",
        ),
        Cause(
            "CONNECTIVITY_ACCESS_TOKEN_ERROR",
            A,
            "You have {granted} permissions to repository {repository}; you lack {missing}.",
            "{grant_command}",
        ),
        Cause(
            "NO_PERMISSIONS",
            A,
            "{identity_kind} '{identity}' may do nothing on registry {registry}: {detail}",
            "{grant_command}",
        ),
        Cause(
            "TOKEN_USERNAME_NOT_NULL_GUID",
            I,
            "The password given is a registry token (from berth acr login --expose-token), which works only "
            "with the user name 00000000-0000-0000-0000-000000000000, not '{identity}'.",
            "docker login {login_server} -u 00000000-0000-0000-0000-000000000000 --password-stdin  (the token "
            "on stdin)",
        ),
    )
}

# Machine reasons from the access layer (login events) → the cause that explains them.
REASONS: dict[str, Cause] = {
    "unknown_identity": Cause(
        "UNKNOWN_IDENTITY",
        I,
        "'{identity}' is neither a token of registry {registry}, the registry name (admin user), nor the "
        "application id of a service principal.",
        "Use a valid user name: the token name, the registry name, or a service principal's appId "
        "(berth ad sp list -o table); for a directory user run berth acr login -n {registry}.",
    ),
    "bad_secret": Cause(
        "WRONG_SECRET",
        I,
        "The password or secret given for {identity_kind} '{identity}' is wrong.",
        "{reset_command}",
    ),
    "credentials_rejected": Cause(  # what a correlation id alone learns of the two reasons below
        "WRONG_CREDENTIALS",
        I,
        "The user name is none of registry {registry}'s identities, or the password or secret is wrong; the "
        "registry tells which only to its owner (unknown user names and wrong secrets are one answer).",
        "Check the user name (a token name, the registry name for the admin user, a service principal's "
        "appId, or 00000000-0000-0000-0000-000000000000 with a token from berth acr login --expose-token) and "
        "use a current password; the owner sees which: berth acr diagnose -n {registry} --correlation-id "
        "{correlation_id}",
    ),
    "secret_expired": Cause("CREDENTIAL_EXPIRED", E, "{detail}.", "{reset_command}"),
    "identity_disabled": Cause("IDENTITY_DISABLED", I, "{detail}.", "{enable_command}"),
    "admin_disabled": Cause(
        "ADMIN_USER_DISABLED",
        I,
        "The admin user of registry {registry} is disabled.",
        "berth acr update -n {registry} --admin-enabled true  (then: berth acr credential show -n {registry})",
    ),
    "no_role": Cause(
        "NO_ROLE",
        A,
        "{detail}.",
        "berth role assignment create --assignee {identity} --role AcrPull --scope {registry_id}",
    ),
    "insufficient_scope": Cause(
        "NOT_AUTHORIZED",
        A,
        "{identity_kind} '{identity}' is not authorized: {detail}.",
        "{grant_command}",
    ),
    "ip_denied": Cause(
        "FIREWALL",
        F,
        "Client IP {client_ip} is outside the registry's network rules.",
        "berth acr network-rule add -n {registry} --ip-address {client_ip}",
    ),
    "public_network_disabled": Cause(
        "PUBLIC_ACCESS_DISABLED",
        F,
        "Public network access to registry {registry} is disabled.",
        "berth acr update -n {registry} --public-network-enabled true; berth acr network-rule add -n {registry} "
        "--ip-address {client_ip}",
    ),
    "anonymous_disabled": Cause(
        "ANONYMOUS_PULL_DISABLED",
        I,
        "The request carried no credentials (the client holds none for {login_server}, e.g. it logged in "
        "under another spelling of the host) and anonymous pull is not enabled on registry {registry}.",
        "docker login {login_server}  (exactly this host, lower case), or: berth acr update -n {registry} "
        "--anonymous-pull-enabled true",
    ),
    "rate_limited": Cause(
        "RATE_LIMITED",
        I,
        "Too many failed authentications: {detail}.",
        "Wait, then retry with correct credentials.",
    ),
    "token_expired": Cause(
        "TOKEN_EXPIRED",
        E,
        "The registry token presented has expired (refresh tokens last 3 hours).",
        "berth acr login -n {registry}",
    ),
    "token_not_yet_valid": Cause(
        "CLOCK_SKEW_ERROR",
        E,
        "The token presented is not valid yet: the clocks of client and server differ.",
        "Synchronise the clocks (NTP).",
    ),
    "token_invalid": Cause(
        "TOKEN_INVALID",
        I,
        "The token presented is not valid: {detail}.",
        "berth acr login -n {registry}",
    ),
    "wrong_registry": Cause(
        "WRONG_REGISTRY",
        N,
        "The token presented was issued for another registry: {detail}.",
        "Log in to this registry: berth acr login -n {registry}",
    ),
    "wrong_audience": Cause(
        "WRONG_AUDIENCE",
        I,
        "The directory token was issued for another resource: {detail}.",
        "berth login",
    ),
    "wrong_tenant": Cause("WRONG_TENANT", I, "{detail}.", "berth login --server <this service>"),
    # A refused push (a failed Push repository event), not a login.
    "storage_quota_exceeded": Cause("STORAGE_QUOTA_EXCEEDED", SeedCause.STORAGE, "{detail}.", QUOTA_FIX),
    # Secretless sign-ins (federated tokens, certificates, managed identities) have their own table.
    **IDENTITY_REASONS,
}

# A pull-only request rejected for its credentials on a registry that allows anonymous pull:
# stored credentials that docker keeps sending are the cause, not the pull itself.
STALE_CREDENTIALS = Cause(
    "DOCKER_CONFIG_STALE_CREDENTIALS",
    I,
    "The client sent stored credentials of {identity_kind} '{identity}' that the registry rejects "
    "({detail}); registry {registry} allows anonymous pull, but not with rejected credentials.",
    "docker logout {login_server}  (anonymous pull then works), or log in again with current credentials",
)
STALE_REASONS = frozenset(
    {"bad_secret", "unknown_identity", "secret_expired", "token_expired", "identity_disabled"}
)
