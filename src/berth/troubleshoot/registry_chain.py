"""The registry side of check-health as a pure request/response chain.

Like httpx's ``Auth.auth_flow``, :func:`check_registry` is a generator: it yields the HTTP
requests to make and receives each response (or the exception it raised), and returns the
findings. The logic is therefore testable with canned responses; :func:`drive` runs it for
real with an ``httpx.Client``.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import ssl
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx

from berth.troubleshoot.docker_env import StoredCredential
from berth.troubleshoot.explain import PROBE_USER_AGENT, RegistryFacts, grant_command
from berth.troubleshoot.findings import Finding, info, passed, problem
from berth.troubleshoot.permissions import NULL_GUID, identity_kind, permission_findings

Chain = Generator[httpx.Request, "httpx.Response | Exception", list[Finding]]

SKEW_LIMIT_SECONDS = 60
REFRESH_TOKEN_SECONDS = 3 * 3600  # ACR's (and berth's) refresh-token lifetime
REPOSITORY_ACTIONS = ("pull", "push", "metadata_write", "metadata_read", "delete")
_FIREWALL_IP = re.compile(r"client with IP '([^']+)'")


@dataclass(frozen=True)
class ChainInput:
    registry: str
    login_server: str
    scheme: str = "https"
    repository: str | None = None
    registry_id: str = "<registry id>"
    directory_token: str | None = None  # for https://containerregistry.azure.net
    directory_error: str | None = None
    username: str | None = None  # admin, token or service principal credentials instead
    password: str | None = None
    stored: StoredCredential | None = None  # what docker would send
    public_access_disabled: bool = False  # known from the registry resource (owner) or the explanation
    token_scope_map: str | None = None  # the scope map of --username when it is a token (if known)
    tag: str | None = None  # --tag: the tag to pull; else the first the repository lists

    def grant(
        self, identity: str, kind: str, missing: list[tuple[str, str]], scope_map: str | None = None
    ) -> str:
        scope_map = scope_map or self.token_scope_map
        maps = {identity: scope_map} if scope_map else {}
        facts = RegistryFacts(self.registry, self.registry_id, self.login_server, maps)
        return grant_command(kind, identity, facts, missing)


def parse_challenge(header: str) -> dict[str, str] | None:
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', params)}


def _error_text(response: httpx.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(document, dict):
        errors = document.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))
        if "error_description" in document:
            return str(document["error_description"])
    return response.text[:200]


def _facts(inp: ChainInput, response: httpx.Response | None = None, **more: str) -> dict[str, str]:
    facts = {
        "registry": inp.registry,
        "login_server": inp.login_server,
        "registry_id": inp.registry_id,
        "scheme": inp.scheme,
    }
    if response is not None:
        facts["status"] = str(response.status_code)
        facts["correlation_id"] = response.headers.get("x-ms-correlation-request-id", "")
    facts.update(more)
    return facts


def _jwt_claims(token: str | None) -> dict[str, Any]:
    """The claims of a JWT, read without verifying it; empty when ``token`` is not one."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:  # bad base64, bytes that are not UTF-8, or not JSON
        return {}
    return claims if isinstance(claims, dict) else {}


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` of a JWT (the identity token docker keeps)."""
    exp = _jwt_claims(token).get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def _token_identity(token: str | None) -> str:
    claims = _jwt_claims(token)
    return str(claims.get("upn") or claims.get("appid") or claims.get("oid") or "<your identity>")


def _connection_problem(inp: ChainInput, exc: Exception) -> Finding:
    text = str(exc)
    ssl_error = isinstance(exc, ssl.SSLError) or "ssl" in text.lower() or "certificate" in text.lower()
    if ssl_error:
        return problem("CONNECTIVITY_SSL_ERROR", _facts(inp, error=text))
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return problem("CONNECTIVITY_DNS_ERROR", _facts(inp, error=text, host=inp.login_server.split(":")[0]))
    if "refused" in text.lower():
        return problem("CONNECTIVITY_REFUSED_ERROR", _facts(inp, error=text, scheme=inp.scheme))
    return problem("CONNECTIVITY_ERROR", _facts(inp, error=text, scheme=inp.scheme))


def _rate_limited(inp: ChainInput, response: httpx.Response) -> Finding:
    retry = response.headers.get("retry-after", "some")
    return problem("CONNECTIVITY_TOOMANYREQUESTS_ERROR", _facts(inp, response, retry_after=retry))


def _clock(inp: ChainInput, response: httpx.Response) -> Finding | None:
    date = response.headers.get("date")
    if not date:
        return None
    try:
        server_time = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    skew = time.time() - server_time
    if abs(skew) <= SKEW_LIMIT_SECONDS:
        return None
    if abs(skew) >= REFRESH_TOKEN_SECONDS - SKEW_LIMIT_SECONDS:
        return problem("CLOCK_SKEW_ERROR", _facts(inp, skew=f"{skew:+.0f}"))
    left = REFRESH_TOKEN_SECONDS - abs(skew)
    margin = f"{int(left // 3600)} h {int(left % 3600 // 60)} min"
    return problem("CLOCK_SKEW_WARNING", _facts(inp, skew=f"{skew:+.0f}", margin=margin), warning=True)


def check_registry(inp: ChainInput) -> Chain:
    findings: list[Finding] = []
    url = f"{inp.scheme}://{inp.login_server}/v2/"
    response = yield httpx.Request("GET", url)
    if isinstance(response, Exception):
        return [_connection_problem(inp, response)]
    skew = _clock(inp, response)
    if skew is not None:
        findings.append(skew)
    if response.status_code == 403:
        found = _FIREWALL_IP.search(_error_text(response))
        ip = found.group(1) if found else "<your IP>"
        code = "PUBLIC_ACCESS_DISABLED" if inp.public_access_disabled else "CONNECTIVITY_FORBIDDEN_ERROR"
        return [*findings, problem(code, _facts(inp, response, client_ip=ip))]
    if response.status_code == 404:
        return [*findings, problem("UNKNOWN_REGISTRY", _facts(inp, response))]
    header = response.headers.get("www-authenticate")
    if response.status_code != 401 or not header:
        error = f"GET {url} answered {response.status_code} without a challenge"
        return [*findings, problem("CONNECTIVITY_CHALLENGE_ERROR", _facts(inp, response, error=error))]
    challenge = parse_challenge(header)
    if challenge is None or "realm" not in challenge or "service" not in challenge:
        error = f"the challenge is not a Bearer challenge with realm and service: {header}"
        return [*findings, problem("CONNECTIVITY_AAD_LOGIN_ERROR", _facts(inp, response, error=error))]
    findings.append(passed(f"Challenge endpoint {url} : OK"))
    base = str(httpx.URL(challenge["realm"]).copy_with(path="/", query=None)).rstrip("/")
    service = challenge["service"]

    scope = (
        f"repository:{inp.repository}:{','.join(REPOSITORY_ACTIONS)}"
        if inp.repository
        else "registry:catalog:*"
    )
    if inp.username is None and not inp.directory_token and inp.stored is not None:
        why = inp.directory_error or "not signed in"
        findings.append(
            info(f"No berth sign-in ({why}): checking the credentials docker stored for {inp.login_server}")
        )
    else:
        findings.extend((yield from _own_credentials(inp, base, service, scope)))
    findings.extend((yield from _stored_credentials(inp, base, service)))
    return findings


def _own_credentials(
    inp: ChainInput, base: str, service: str, scope: str
) -> Generator[httpx.Request, httpx.Response | Exception, list[Finding]]:
    """The credentials check-health was given: --username/--password, or the berth sign-in."""
    findings: list[Finding] = []
    if inp.username is not None and inp.username != NULL_GUID and _jwt_claims(inp.password):
        return [problem("TOKEN_USERNAME_NOT_NULL_GUID", _facts(inp, identity=inp.username))]
    if inp.username is not None:
        form = {
            "grant_type": "password",
            "service": service,
            "scope": scope,
            "username": inp.username,
            "password": inp.password or "",
        }
    else:
        refresh = yield from _exchange(inp, base, service, findings)
        if refresh is None:
            return findings
        form = {"grant_type": "refresh_token", "service": service, "scope": scope, "refresh_token": refresh}
    response = yield httpx.Request("POST", f"{base}/oauth2/token", data=form)
    if isinstance(response, Exception):
        return [*findings, _connection_problem(inp, response)]
    if response.status_code == 429:
        return [*findings, _rate_limited(inp, response)]
    if response.status_code != 200:
        return [*findings, _credentials_problem(inp, response)]
    token = str(response.json().get("access_token", ""))
    if inp.repository:
        return [*findings, *(yield from _scope_findings(inp, token))]
    findings.append(passed(f"Fetch access token for registry '{inp.login_server}' : OK"))
    document = yield from _identity(inp, token)
    if document:
        findings.extend(permission_findings(inp, document))
    return findings


def _identity(
    inp: ChainInput, token: str
) -> Generator[httpx.Request, httpx.Response | Exception, dict[str, Any]]:
    """What the registry tells the holder of ``token`` about its identity and permissions."""
    answer = yield _bearer("GET", f"{inp.scheme}://{inp.login_server}/acr/v1/_diagnostics/identity", token)
    document = answer.json() if isinstance(answer, httpx.Response) and answer.status_code == 200 else {}
    return document if isinstance(document, dict) and "identityKind" in document else {}


def _exchange(
    inp: ChainInput, base: str, service: str, findings: list[Finding]
) -> Generator[httpx.Request, httpx.Response | Exception, str | None]:
    if not inp.directory_token:
        findings.append(
            problem("DIRECTORY_LOGIN_ERROR", _facts(inp, error=inp.directory_error or "not signed in"))
        )
        return None
    form = {"grant_type": "access_token", "service": service, "access_token": inp.directory_token}
    response = yield httpx.Request("POST", f"{base}/oauth2/exchange", data=form)
    if isinstance(response, Exception):
        findings.append(_connection_problem(inp, response))
        return None
    if response.status_code == 429:
        findings.append(_rate_limited(inp, response))
        return None
    if response.status_code != 200:
        findings.append(
            problem(
                "CONNECTIVITY_REFRESH_TOKEN_ERROR",
                _facts(
                    inp, response, error=_error_text(response), identity=_token_identity(inp.directory_token)
                ),
            )
        )
        return None
    findings.append(passed(f"Fetch refresh token for registry '{inp.login_server}' : OK"))
    return str(response.json().get("refresh_token", ""))


def _credentials_problem(inp: ChainInput, response: httpx.Response) -> Finding:
    error = _error_text(response)
    facts = _facts(inp, response, error=error, identity=inp.username or "")
    if response.status_code == 403 and "permissions" in error:
        return problem("CONNECTIVITY_REFRESH_TOKEN_ERROR", facts)
    return problem("CREDENTIALS_REJECTED", facts)


def _access_entries(token: str) -> list[dict[str, Any]]:
    access = _jwt_claims(token).get("access")
    return access if isinstance(access, list) else []


def _bearer(method: str, url: str, token: str) -> httpx.Request:
    return httpx.Request(method, url, headers={"Authorization": f"Bearer {token}"})


def _scope_findings(
    inp: ChainInput, token: str
) -> Generator[httpx.Request, httpx.Response | Exception, list[Finding]]:
    """The actions granted on --repository, and the tag to pull (--tag, else the first listed)."""
    repository = inp.repository or ""
    entries = _access_entries(token)
    granted = set(entries[0].get("actions") or []) if entries else set()
    missing = [a for a in REPOSITORY_ACTIONS if a not in granted]
    findings: list[Finding] = []
    if missing:
        identity = inp.username or _token_identity(inp.directory_token)
        kind = identity_kind(inp.registry, inp.username, _jwt_claims(inp.directory_token))
        scope_map = None
        if kind == "token" and not inp.token_scope_map:
            scope_map = (yield from _identity(inp, token)).get("scopeMap")
        facts = _facts(
            inp,
            repository=repository,
            granted=", ".join(sorted(granted)) or "no",
            missing=", ".join(missing),
            identity=identity,
            grant_command=inp.grant(identity, kind, [(repository, a) for a in missing], scope_map),
        )
        findings.append(problem("CONNECTIVITY_ACCESS_TOKEN_ERROR", facts))
    else:
        findings.append(
            passed(f"Fetch access token for repository '{repository}' in registry '{inp.login_server}' : OK")
        )
    if inp.tag or "pull" not in granted:
        return findings
    listed = yield _bearer("GET", f"{inp.scheme}://{inp.login_server}/v2/{repository}/tags/list?n=1", token)
    tags = (
        listed.json().get("tags")
        if isinstance(listed, httpx.Response) and listed.status_code == 200
        else None
    )
    if tags:
        findings.append(info(f"Repository '{repository}' has tag '{tags[0]}' to pull", tag=str(tags[0])))
    elif isinstance(listed, httpx.Response) and listed.status_code in (200, 404):
        findings.append(info(f"Repository '{repository}' has no tags: nothing to pull", tag=""))
    return findings


def _stored_credentials(
    inp: ChainInput, base: str, service: str
) -> Generator[httpx.Request, httpx.Response | Exception, list[Finding]]:
    """Would docker's stored credentials for this login server work?"""
    stored = inp.stored
    if stored is None:
        return []
    facts = _facts(inp, config_file=stored.config_file, helper=stored.source.rsplit("-", 1)[-1])
    if stored.error:
        return [problem("DOCKER_CREDENTIAL_HELPER_ERROR", {**facts, "error": stored.error})]
    findings = [passed(f"Docker credentials for {inp.login_server}: {stored.source} in {stored.config_file}")]
    scope = f"repository:{inp.repository or 'library/hello-world'}:pull"
    if stored.identity_token:
        expiry = _jwt_expiry(stored.identity_token)
        if expiry is not None and expiry < time.time():
            expired = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(expiry))
            return [*findings, problem("DOCKER_IDENTITY_TOKEN_EXPIRED", {**facts, "expired_at": expired})]
        form = {
            "grant_type": "refresh_token",
            "service": service,
            "scope": scope,
            "refresh_token": stored.identity_token,
        }
        response = yield httpx.Request("POST", f"{base}/oauth2/token", data=form)
    else:
        auth = base64.b64encode(f"{stored.username}:{stored.secret}".encode()).decode()
        response = yield httpx.Request(
            "GET",
            f"{base}/oauth2/token",
            params={"service": service, "scope": scope},
            headers={"Authorization": f"Basic {auth}"},
        )
    if isinstance(response, Exception) or response.status_code == 200:
        return findings
    anonymous = yield httpx.Request(
        "GET", f"{base}/oauth2/token", params={"service": service, "scope": scope}
    )
    reason = _error_text(response)
    facts = {**facts, **_facts(inp, response), "identity": stored.username or "(identity token)"}
    if isinstance(anonymous, httpx.Response) and anonymous.status_code == 200:
        return [*findings, problem("DOCKER_CONFIG_STALE_CREDENTIALS", {**facts, "reason": reason})]
    return [*findings, problem("DOCKER_CONFIG_INVALID_CREDENTIALS", {**facts, "error": reason})]


def drive(chain: Chain, client: httpx.Client) -> list[Finding]:
    """Run a chain against real HTTP."""
    try:
        request = next(chain)
        while True:
            request.headers["User-Agent"] = PROBE_USER_AGENT  # diagnose leaves berth's probes out
            try:
                response: httpx.Response | Exception = client.send(request)
            except httpx.HTTPError as exc:
                response = exc
            request = chain.send(response)
    except StopIteration as stop:
        return list(stop.value)
