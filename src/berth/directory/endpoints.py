"""The directory's HTTP face: OIDC discovery, JWKS and the v2.0 token endpoint.

Works with unmodified MSAL / azure-identity given ``authority=<berth URL>`` and
``disable_instance_discovery=True`` (over HTTPS, which MSAL requires). The tenant segment may
be the tenant id, ``organizations`` or ``common``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from berth.access.model import AuthOutcome, Identity, IdentityKind
from berth.access.tokens import TokenRejected
from berth.directory.assertions import ClientAssertions
from berth.directory.authorization import AUTHORIZATION_CODE_GRANT, AuthorizationEndpoints
from berth.directory.device_code import DEVICE_CODE_GRANT
from berth.directory.interactive import DeviceEndpoints
from berth.directory.service import Directory, SignInFailure
from berth.directory.tokens import REFRESH_TYPE, DirectoryTokens, audience_for_scope, granted_scope
from berth.directory.wire import host_registry, report_sign_in
from berth.directory.wire import oauth_error as _oauth_error
from berth.metadata.identities import USER, IdentityRecord
from berth.metadata.registries import RegistryRecord
from berth.registry import clients
from berth.services import Services

TENANT_ALIASES = ("organizations", "common")
_MAX_FORM = 64 * 1024


class DirectoryEndpoints:
    def __init__(self, services: Services, directory: Directory, tokens: DirectoryTokens) -> None:
        self.services = services
        self.directory = directory
        self.tokens = tokens
        self.device = DeviceEndpoints(services, directory, tokens.tenant_id)
        self.assertions = ClientAssertions(services.db)
        self.authorization = AuthorizationEndpoints(services, directory)

    def routes(self) -> list[BaseRoute]:
        return [
            *self.device.routes(),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/{tenant}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", self.keys, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/authorize", self.authorize, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/authorize", self.authorize_sign_in, methods=["POST"]),
        ]

    def _tenant_ok(self, request: Request) -> bool:
        tenant = request.path_params["tenant"]
        return tenant in TENANT_ALIASES or tenant == self.tokens.tenant_id

    @staticmethod
    def _base(request: Request) -> str:
        return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"

    def _unknown_tenant(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        return _oauth_error(
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. This service's tenant is {self.tokens.tenant_id}.",
            status=400,
        )

    async def discovery(self, request: Request) -> Response:
        if not self._tenant_ok(request):
            return self._unknown_tenant(request)
        base = f"{self._base(request)}/{self.tokens.tenant_id}"
        return JSONResponse(
            {
                "issuer": self.tokens.issuer,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "grant_types_supported": [
                    "client_credentials",
                    "password",
                    "refresh_token",
                    DEVICE_CODE_GRANT,
                    AUTHORIZATION_CODE_GRANT,
                ],
                "code_challenge_methods_supported": ["S256"],
                "tenant_region_scope": "local",
            }
        )

    async def keys(self, request: Request) -> Response:
        return JSONResponse(self.tokens.keyring.jwks())

    async def authorize(self, request: Request) -> Response:
        """The sign-in page of the authorization-code flow (see :mod:`berth.directory.authorization`)."""
        if not self._tenant_ok(request):
            return self._unknown_tenant(request)
        return await self.authorization.page(request)

    async def authorize_sign_in(self, request: Request) -> Response:
        if not self._tenant_ok(request):
            return self._unknown_tenant(request)
        return await self.authorization.sign_in(request)

    async def token(self, request: Request) -> Response:
        if not self._tenant_ok(request):
            return self._unknown_tenant(request)
        body = await request.body()
        if len(body) > _MAX_FORM:
            return _oauth_error("invalid_request", 90014, "The request body is too large.", status=413)
        form = {
            k: " ".join(v)
            for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        grant_type = form.get("grant_type", "")
        client_ip = clients.client_ip(request.scope, self.services.trusted_proxies)
        limits = self.services.auth.limits
        presented = form.get("client_id") if grant_type == "client_credentials" else form.get("username")
        wait = limits.retry_after(client_ip, presented)
        if wait is not None:
            self._report(
                request,
                client_ip,
                AuthOutcome(
                    "directory",
                    Identity.presented(presented or ""),
                    "rate_limited",
                    f"retry after {wait}s",
                    status=429,
                ),
            )
            return _oauth_error(
                "temporarily_unavailable",
                50196,
                f"Too many failed sign-ins; retry after {wait} seconds.",
                status=429,
                headers={"Retry-After": str(wait)},
            )
        result: IdentityRecord | SignInFailure
        if grant_type == "client_credentials" and "client_assertion_type" in form:
            result = await self.assertions.sign_in(
                form.get("client_id", ""),
                form["client_assertion_type"],
                form.get("client_assertion", ""),
                self._token_endpoints(request),
            )
        elif grant_type == "client_credentials":
            result = await self.directory.sign_in_client(
                form.get("client_id", ""), form.get("client_secret", "")
            )
        elif grant_type == "password":
            result = await self.directory.sign_in_user(form.get("username", ""), form.get("password", ""))
        elif grant_type == "refresh_token":
            result = await self._refresh(form.get("refresh_token", ""))
        elif grant_type == DEVICE_CODE_GRANT:
            redeemed = await self.device.redeem(form)
            if isinstance(redeemed, Response):
                return redeemed  # pending, expired or unknown: not a failed sign-in
            result = redeemed
        elif grant_type == AUTHORIZATION_CODE_GRANT:
            by_code = await self.authorization.redeem(form)
            if isinstance(by_code, Response):
                return by_code
            result = by_code
        else:
            return _oauth_error(
                "unsupported_grant_type",
                70003,
                f"The grant type '{grant_type}' is not supported.",
                status=400,
            )
        if isinstance(result, SignInFailure):
            limits.record_failure(client_ip, presented)
            # Workloads sign in here just before they pull: their refusals go to the registry this
            # host serves, where ``berth acr logs`` and ``berth acr diagnose`` look for them.
            registry = await self._host_registry(request) if "client_assertion_type" in form else None
            self._report(
                request,
                client_ip,
                AuthOutcome("directory", result.identity, result.reason, result.detail, status=result.status),
                registry,
            )
            return _oauth_error(result.error, result.code, result.description, status=result.status)
        audience = audience_for_scope(form.get("scope", ""), self.services.settings.service_url)
        if audience is None:
            return _oauth_error(
                "invalid_scope",
                500011,
                f"The resource principal named {form.get('scope', '')!r} was not found in the tenant. Use "
                "https://containerregistry.azure.net/.default, https://management.azure.com/.default or "
                f"{self.services.settings.service_url}/.default (Graph).",
                status=400,
            )
        client_id = form.get("client_id") or (result.app_id or "")
        access_token, expires_in = self.tokens.issue_access_token(result, audience, client_id)
        response: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": access_token,
            "scope": granted_scope(form.get("scope", ""), audience),
        }
        if grant_type in ("password", "refresh_token", DEVICE_CODE_GRANT, AUTHORIZATION_CODE_GRANT):
            response["refresh_token"] = self.tokens.issue_refresh_token(result, client_id)
        if result.kind == USER:
            response["client_info"] = _client_info(result.id, self.tokens.tenant_id)
            response["id_token"] = self._id_token(result, client_id)
        kind = IdentityKind.USER if result.kind == USER else IdentityKind.SERVICE_PRINCIPAL
        self._report(request, client_ip, AuthOutcome("directory", Identity(kind, result.name, result.id)))
        return JSONResponse(response, headers={"Cache-Control": "no-store"})

    def _token_endpoints(self, request: Request) -> tuple[str, ...]:
        """The audiences a certificate assertion may name: this token endpoint, any tenant alias."""
        base = self._base(request)
        tenants = (self.tokens.tenant_id, *TENANT_ALIASES)
        return (*(f"{base}/{t}/oauth2/v2.0/token" for t in tenants), self.tokens.issuer)

    async def _refresh(self, token: str) -> IdentityRecord | SignInFailure:
        try:
            claims = self.tokens.verify(token, (self.tokens.issuer,), REFRESH_TYPE)
        except TokenRejected as exc:
            return SignInFailure(
                "invalid_grant",
                700082,
                "The refresh token has expired or is not valid. Sign in again.",
                exc.reason,
                Identity.presented(""),
                str(exc),
            )
        return await self.directory.still_valid(claims.object_id, claims.issued_at)

    def _id_token(self, identity: IdentityRecord, client_id: str) -> str:
        now = int(time.time())
        return self.tokens.keyring.sign(
            {
                "iss": self.tokens.issuer,
                "aud": client_id or "berth",
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "oid": identity.id,
                "sub": identity.id,
                "tid": self.tokens.tenant_id,
                "ver": "2.0",
                "preferred_username": identity.upn,
                "name": identity.display_name,
            }
        )

    async def _host_registry(self, request: Request) -> RegistryRecord | None:
        return await host_registry(self.services, request)

    def _report(
        self, request: Request, client_ip: str, outcome: AuthOutcome, registry: RegistryRecord | None = None
    ) -> None:
        report_sign_in(self.services, request, client_ip, outcome, registry)


def _client_info(object_id: str, tenant_id: str) -> str:
    raw = json.dumps({"uid": object_id, "utid": tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
