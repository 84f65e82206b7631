"""``check-acr``'s checks: can the identity this host would use pull from a registry?

The identity is found as the clients on the host would find it: a managed identity endpoint
(``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``), a federated token file (``AZURE_FEDERATED_TOKEN_FILE``
with ``AZURE_CLIENT_ID`` and ``AZURE_TENANT_ID``, as AKS's workload identity webhook sets them), or
docker credentials (a Kubernetes pull secret's ``.dockerconfigjson`` or docker's config.json).
Each step yields a :class:`Step`; a failed step names a cause of the catalogue
(:mod:`berth.troubleshoot.causes`), rendered with the facts found, and ends the run.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from berth.troubleshoot.cause_model import Cause
from berth.troubleshoot.causes import CAUSES, REASONS

NULL_GUID = "00000000-0000-0000-0000-000000000000"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONTAINER_REGISTRY = "https://containerregistry.azure.net"
LEEWAY = 60


@dataclass(frozen=True)
class Step:
    title: str
    ok: bool
    detail: str = ""
    cause: Cause | None = None
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.cause.code if self.cause else ""

    def rendered(self) -> tuple[str, str]:
        return self.cause.render(**self.facts) if self.cause else ("", "")


class Failed(Exception):
    def __init__(self, step: Step) -> None:
        super().__init__(step.title)
        self.step = step


@dataclass(frozen=True)
class HostIdentity:
    kind: str  # "managed identity" | "federated token" | "docker credentials"
    description: str
    env: Mapping[str, str]
    docker_auth: Mapping[str, Any] | None = None


def detect(env: Mapping[str, str], docker_configs: list[Path], login_server: str) -> HostIdentity | None:
    """The identity clients on this host would use, in azure-identity's order, then docker's."""
    if env.get("IDENTITY_ENDPOINT") and env.get("IDENTITY_HEADER"):
        return HostIdentity("managed identity", f"endpoint {env['IDENTITY_ENDPOINT']}", env)
    if env.get("AZURE_FEDERATED_TOKEN_FILE") and env.get("AZURE_CLIENT_ID") and env.get("AZURE_TENANT_ID"):
        return HostIdentity(
            "federated token",
            f"token file {env['AZURE_FEDERATED_TOKEN_FILE']} for client id {env['AZURE_CLIENT_ID']}",
            env,
        )
    for config in docker_configs:
        try:
            auths = json.loads(config.read_text()).get("auths") or {}
        except (OSError, ValueError):
            continue
        entry = auths.get(login_server)
        if isinstance(entry, dict) and (entry.get("auth") or entry.get("identitytoken")):
            return HostIdentity("docker credentials", f"{config} ({login_server})", env, entry)
    return None


def _failure(title: str, code: str, facts: Mapping[str, str], reason: bool = False) -> Failed:
    cause = REASONS[code] if reason else CAUSES[code]
    return Failed(Step(title, False, facts.get("error") or facts.get("detail", ""), cause, facts))


class HostCheck:
    def __init__(self, http: httpx.Client, login_server: str, scheme: str, service_url: str) -> None:
        self.http = http
        self.login_server = login_server
        self.scheme = scheme
        self.service_url = service_url.rstrip("/")
        self.facts: dict[str, str] = {"login_server": login_server, "registry": login_server.split(".")[0]}

    def _fail(self, title: str, code: str, *, reason: bool = False, **extra: str) -> Failed:
        return _failure(title, code, {**self.facts, **extra}, reason)

    def run(self, identity: HostIdentity | None, repository: str) -> Iterator[Step]:
        try:
            yield self._resolve()
            service = yield from self._challenge()
            if identity is None:
                raise Failed(
                    Step("Finding this host's identity", False, "no identity found", _NO_IDENTITY, self.facts)
                )
            yield Step(f"Identity: {identity.kind}, {identity.description}", True)
            refresh, basic = self._credentials(identity, service)
            yield Step("Validating the identity's token", True)
            yield self._pull(service, repository, refresh, basic)
        except Failed as failure:
            yield failure.step

    def _resolve(self) -> Step:
        host = (
            self.login_server.rsplit(":", 1)[0]
            if not self.login_server.startswith("[")
            else self.login_server
        )
        title = f"Checking host name resolution ({host})"
        try:
            socket.getaddrinfo(host, None)
        except OSError as exc:
            raise self._fail(
                title, "CONNECTIVITY_DNS_ERROR", error=str(exc), host=host, host_ip="127.0.0.1"
            ) from None
        return Step(title, True)

    def _challenge(self) -> Generator[Step, None, str]:
        url = f"{self.scheme}://{self.login_server}/v2/"
        title = f"Checking connectivity ({url})"
        try:
            response = self.http.get(url)
        except httpx.ConnectError as exc:
            code = (
                "CONNECTIVITY_SSL_ERROR"
                if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper()
                else "CONNECTIVITY_ERROR"
            )
            raise self._fail(title, code, error=str(exc)) from None
        except httpx.HTTPError as exc:
            raise self._fail(title, "CONNECTIVITY_ERROR", error=str(exc)) from None
        if response.status_code == 403:
            raise self._fail(title, "CONNECTIVITY_FORBIDDEN_ERROR", client_ip="<this host>")
        header = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or 'service="' not in header:
            raise self._fail(title, "CONNECTIVITY_CHALLENGE_ERROR", error=f"status {response.status_code}")
        yield Step(title, True)
        return str(header.split('service="', 1)[1].split('"', 1)[0])

    # --- the identity's token ----------------------------------------------------------------

    def _credentials(self, identity: HostIdentity, service: str) -> tuple[str | None, tuple[str, str] | None]:
        """(an ACR refresh token, or Basic credentials) for the identity."""
        if identity.kind == "docker credentials":
            entry = identity.docker_auth or {}
            if entry.get("identitytoken"):
                return str(entry["identitytoken"]), None
            user, _, password = base64.b64decode(str(entry["auth"])).decode(errors="replace").partition(":")
            return None, (user, password)
        if identity.kind == "managed identity":
            directory_token = self._managed_identity_token(identity.env)
        else:
            directory_token = self._federated_token(identity.env)
        return self._exchange(directory_token, service), None

    def _managed_identity_token(self, env: Mapping[str, str]) -> str:
        title = "Getting a token from the managed identity endpoint"
        params = {"api-version": "2019-08-01", "resource": CONTAINER_REGISTRY}
        if env.get("AZURE_CLIENT_ID"):
            params["client_id"] = env["AZURE_CLIENT_ID"]
        try:
            response = self.http.get(
                env["IDENTITY_ENDPOINT"], params=params, headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]}
            )
        except httpx.HTTPError as exc:
            raise self._fail(title, "CONNECTIVITY_ERROR", error=str(exc)) from None
        body = _json(response)
        if response.status_code == 200 and body.get("access_token"):
            return str(body["access_token"])
        reason = "host_secret_invalid" if response.status_code == 401 else "identity_not_assigned"
        raise self._fail(
            title,
            reason,
            reason=True,
            detail=str(body.get("message") or response.text[:200]),
            identity=env.get("AZURE_CLIENT_ID", ""),
        )

    def _federated_token(self, env: Mapping[str, str]) -> str:
        title = "Signing in with the federated token"
        client_id = env["AZURE_CLIENT_ID"]
        extra = {"identity": client_id, "identity_kind": "service principal"}
        try:
            assertion = Path(env["AZURE_FEDERATED_TOKEN_FILE"]).read_text().strip()
            claims: dict[str, Any] = _claims(assertion)
        except (OSError, ValueError) as exc:
            raise self._fail(
                title,
                "assertion_invalid",
                reason=True,
                detail=f"the token file cannot be used: {exc}",
                **extra,
            ) from None
        now = time.time()
        issuer, subject = claims.get("iss"), claims.get("sub")
        if float(claims.get("exp", 0)) < now - LEEWAY:
            raise self._fail(
                title,
                "federation_assertion_expired",
                reason=True,
                detail=f"the token in the file expired {round(now - float(claims['exp']))} s ago "
                f"(issuer {issuer})",
                **extra,
            )
        if float(claims.get("nbf") or claims.get("iat") or 0) > now + LEEWAY:
            raise self._fail(
                title,
                "federation_clock_skew",
                reason=True,
                detail=f"the token in the file is valid only from {claims.get('nbf') or claims.get('iat')}, "
                "ahead of this host's clock",
                **extra,
            )
        authority = (env.get("AZURE_AUTHORITY_HOST") or self.service_url).rstrip("/")
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": f"{CONTAINER_REGISTRY}/.default",
        }
        try:
            response = self.http.post(f"{authority}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token", data=form)
        except httpx.HTTPError as exc:
            raise self._fail(title, "CONNECTIVITY_ERROR", error=str(exc)) from None
        body = _json(response)
        if response.status_code == 200 and body.get("access_token"):
            return str(body["access_token"])
        description = str(body.get("error_description") or response.text[:300])
        detail = f"{description.split(' Trace ID')[0]} (subject {subject!r}, issuer {issuer!r})"
        raise self._fail(title, _reason_of(body, description), reason=True, detail=detail, **extra)

    def _exchange(self, directory_token: str, service: str) -> str:
        title = "Exchanging the directory token for a registry token"
        form = {"grant_type": "access_token", "service": service, "access_token": directory_token}
        response = self.http.post(f"{self.scheme}://{self.login_server}/oauth2/exchange", data=form)
        body = _json(response)
        if response.status_code == 200 and body.get("refresh_token"):
            return str(body["refresh_token"])
        identity = str(_claims(directory_token).get("appid", ""))
        raise self._fail(
            title,
            "CONNECTIVITY_REFRESH_TOKEN_ERROR",
            status=str(response.status_code),
            error=_error(body, response),
            identity=identity,
            registry_id="<registry id>",
        )

    def _pull(
        self, service: str, repository: str, refresh: str | None, basic: tuple[str, str] | None
    ) -> Step:
        title = "Validating image pull permission"
        scope = f"repository:{repository}:pull"
        url = f"{self.scheme}://{self.login_server}/oauth2/token"
        if refresh is not None:
            response = self.http.post(
                url,
                data={
                    "grant_type": "refresh_token",
                    "service": service,
                    "scope": scope,
                    "refresh_token": refresh,
                },
            )
        else:
            assert basic is not None
            response = self.http.get(url, params={"service": service, "scope": scope}, auth=basic)
        body = _json(response)
        token = body.get("access_token")
        if response.status_code != 200 or not token:
            code = "DOCKER_CONFIG_INVALID_CREDENTIALS" if basic is not None else "CREDENTIALS_REJECTED"
            raise self._fail(
                title,
                code,
                error=_error(body, response),
                identity=basic[0] if basic else "",
                status=str(response.status_code),
                config_file="the docker configuration",
                correlation_id="<id>",
            )
        access = _claims(str(token)).get("access") or []
        if not any("pull" in (a.get("actions") or []) for a in access if a.get("name") == repository):
            raise self._fail(
                title,
                "CONNECTIVITY_ACCESS_TOKEN_ERROR",
                granted="no",
                repository=repository,
                missing="pull",
                identity=basic[0] if basic else "<the identity>",
                registry_id="<registry id>",
            )
        return Step(title, True)


_NO_IDENTITY = Cause(
    "NO_HOST_IDENTITY",
    CAUSES["DOCKER_CONFIG_INVALID_CREDENTIALS"].seed,
    "No identity for {login_server} was found on this host: no IDENTITY_ENDPOINT/IDENTITY_HEADER, no "
    "AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID and AZURE_TENANT_ID, no docker credentials.",
    "Give the host one: berth identity host-credential create (managed identity), a federated credential "
    "(berth ad app federated-credential create) with the token file, or a pull secret (--pull-secret).",
)


def _reason_of(body: Mapping[str, Any], description: str) -> str:
    codes = body.get("error_codes") or [0]
    code = int(codes[0]) if codes else 0
    if code == 70021:
        return "federation_subject_mismatch" if "subject" in description else "federation_unknown_issuer"
    return {
        700212: "federation_audience_mismatch",
        700024: "federation_assertion_expired",
        50166: "federation_issuer_unreachable",
        700027: "federation_bad_signature",
        700016: "unknown_identity",
    }.get(code, "assertion_invalid")


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the CLI only reads what it was given; the server verifies).
    Raises ValueError when ``token`` is not a JWT. Kept free of PyJWT, which the CLI does not load."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT (three dot-separated parts)")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a JWT: {exc}") from None
    if not isinstance(claims, dict):
        raise ValueError("not a JWT: the payload is not a JSON object")
    return claims


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(body: Mapping[str, Any], response: httpx.Response) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return str(body.get("error_description") or body.get("message") or response.text[:200])


def dockerconfigjson(login_server: str, username: str, password: str) -> str:
    """A ``.dockerconfigjson`` (a Kubernetes imagePullSecret's data) for these credentials."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {login_server: {"username": username, "password": password, "auth": auth}}})
