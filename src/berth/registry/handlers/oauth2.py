"""The registry's token service: ``/oauth2/token`` (GET and POST) and ``/oauth2/exchange``.

These routes are the authentication itself, so they skip the access step; each records what
happened as an :class:`AuthOutcome` for the login events.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import Response

from berth import errors
from berth.access.model import Access, AuthOutcome, Denial, Identity
from berth.access.principals import NULL_GUID, Principal
from berth.access.scopes import Scope, parse_scopes
from berth.access.service import AccessService, parse_basic, rate_limited
from berth.directory.tokens import ACCESS_TYPE, REFRESH_TYPE
from berth.errors import WireError
from berth.registry.bodies import read_limited
from berth.registry.context import RequestContext
from berth.registry.hosts import target_for
from berth.registry.responses import json_response

_MAX_FORM = 64 * 1024
_FORM_TOO_LARGE = WireError(errors.PAYLOAD_TOO_LARGE, "the form is larger than 64 KiB")


async def _form(ctx: RequestContext) -> dict[str, str]:
    body = await read_limited(ctx.request, _MAX_FORM, _FORM_TOO_LARGE)
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise WireError(errors.BAD_REQUEST, "the form is not UTF-8") from None
    return {key: " ".join(values) for key, values in parsed.items()}


def _check_service(ctx: RequestContext, service: str | None) -> None:
    if not service:
        return
    settings = ctx.services.settings
    if target_for(service, settings.domain, settings.default_registry).name != ctx.registry.name_lower:
        raise WireError(errors.BAD_REQUEST, f"service '{service}' is not the login server of this registry")


def _requested(scopes: list[Scope]) -> tuple[Access, ...]:
    return tuple(access for scope in scopes for access in scope.accesses())


def _fail(ctx: RequestContext, operation: str, denial: Denial, requested: tuple[Access, ...]) -> WireError:
    ctx.auth = AuthOutcome(
        operation, denial.identity, denial.reason, denial.detail, requested, status=denial.error.http_status
    )
    return denial.error


async def _with_password(
    ctx: RequestContext, auth: AccessService, username: str, password: str
) -> Principal | Denial:
    wait = auth.limits.retry_after(ctx.client_ip, username)
    if wait is not None:
        return rate_limited(Identity.presented(username), wait)
    resolved = await auth.authenticate_basic(ctx.registry, username, password)
    if isinstance(resolved, Denial):
        auth.limits.record_failure(ctx.client_ip, username)
    return resolved


def _issue(
    ctx: RequestContext, principal: Principal, scopes: list[Scope], operation: str, with_refresh: bool
) -> Response:
    auth = ctx.services.auth
    issued = auth.issue_access_token(ctx.registry, principal, scopes)
    body = {"access_token": issued.token}
    if with_refresh:
        body["refresh_token"] = auth.issue_refresh_token(ctx.registry, principal).token
    ctx.auth = AuthOutcome(
        operation,
        principal.identity,
        requested=_requested(scopes),
        granted=issued.granted,
        jwt_id=issued.jwt_id,
    )
    return json_response(body)


async def token_get(ctx: RequestContext) -> Response:
    """docker's request: Basic credentials (or none for anonymous), scopes as query values."""
    query = ctx.request.query_params
    _check_service(ctx, query.get("service"))
    scopes = parse_scopes(query.getlist("scope"))
    auth = ctx.services.auth
    header = ctx.request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    username = None
    if scheme.lower() == "basic" and value:
        credentials = parse_basic(value)
        if credentials is None:
            raise WireError(errors.UNAUTHORIZED, "the Authorization header is not valid Basic credentials")
        username, password = credentials
        resolved = await _with_password(ctx, auth, username, password)
    else:
        resolved = auth.resolver.anonymous(ctx.registry)
    if isinstance(resolved, Denial):
        raise _fail(ctx, "token", resolved, _requested(scopes))
    offline = query.get("offline_token", "").lower() == "true"
    return _issue(ctx, resolved, scopes, "token", with_refresh=offline and username == NULL_GUID)


async def token_post(ctx: RequestContext) -> Response:
    """``grant_type=refresh_token`` (SDK, az, docker with an identity token) or ``password``."""
    form = await _form(ctx)
    _check_service(ctx, form.get("service"))
    scopes = parse_scopes([form.get("scope", "")])
    auth = ctx.services.auth
    grant_type = form.get("grant_type", "")
    if grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise WireError(errors.BAD_REQUEST, "refresh_token is required")
        resolved = await auth.from_acr_token(ctx.registry, form["refresh_token"], ("refresh_token",))
    elif grant_type == "password":
        username, password = form.get("username", ""), form.get("password", "")
        if username:
            resolved = await _with_password(ctx, auth, username, password)
        else:
            resolved = auth.resolver.anonymous(ctx.registry)
    else:
        raise WireError(
            errors.BAD_REQUEST, f"grant_type {grant_type!r} is not supported; use refresh_token or password"
        )
    if isinstance(resolved, Denial):
        raise _fail(ctx, "token", resolved, _requested(scopes))
    return _issue(ctx, resolved, scopes, "token", with_refresh=False)


async def exchange(ctx: RequestContext) -> Response:
    """A directory token for a user or service principal → an ACR refresh token (3 hours)."""
    form = await _form(ctx)
    _check_service(ctx, form.get("service"))
    auth = ctx.services.auth
    grant_type = form.get("grant_type", "")
    tenant = form.get("tenant")
    if tenant and tenant != auth.directory_tokens.tenant_id:
        raise WireError(errors.UNAUTHORIZED, f"tenant '{tenant}' is not this service's tenant")
    if grant_type in ("access_token", "access_token_refresh_token"):
        token, token_type = form.get("access_token", ""), ACCESS_TYPE
    elif grant_type == "refresh_token":
        token, token_type = form.get("refresh_token", ""), REFRESH_TYPE
    else:
        raise WireError(errors.BAD_REQUEST, f"grant_type {grant_type!r} is not supported; use access_token")
    if not token:
        raise WireError(errors.BAD_REQUEST, f"{grant_type} needs a token")
    wait = auth.limits.retry_after(ctx.client_ip, None)
    if wait is not None:
        raise _fail(ctx, "exchange", rate_limited(None, wait), ())
    resolved = await auth.from_directory_token(ctx.registry, token, token_type)
    if isinstance(resolved, Denial):
        if resolved.reason != "no_role":  # a valid sign-in without a role is not a guess
            auth.limits.record_failure(ctx.client_ip, resolved.identity.name if resolved.identity else None)
        raise _fail(ctx, "exchange", resolved, ())
    issued = auth.issue_refresh_token(ctx.registry, resolved)
    ctx.auth = AuthOutcome("exchange", resolved.identity, jwt_id=issued.jwt_id)
    return json_response({"refresh_token": issued.token})
