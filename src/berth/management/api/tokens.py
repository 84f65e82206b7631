"""Repository-scoped tokens of a registry and their two passwords (``generateCredentials``).

A token's passwords are listed by name, creation time and expiry; their values appear only in
the ``generateCredentials`` answer that made them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep, Scope, deleted, or_none
from berth.management.api.fields import iso
from berth.management.api.models import (
    GenerateCredentialsRequest,
    GeneratedCredentials,
    GeneratedPassword,
    ListOf,
    Token,
    TokenCreate,
    TokenCredentials,
    TokenPassword,
    TokenProperties,
    TokenUpdate,
)
from berth.management.api.scope_maps import scope_map_id
from berth.management.authz import READ, WRITE
from berth.management.errors import invalid
from berth.management.scoped_access import NAME, PASSWORD_NAMES, TokenView
from berth.metadata.registries import RegistryRecord

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Tokens"])

TYPE = "Microsoft.ContainerRegistry/registries/tokens"
TOKENS = REGISTRY + "/tokens"
TOKEN = TOKENS + "/{tokenName}"
CREATED: dict[int | str, dict[str, Any]] = {201: {"model": Token, "description": "Created"}}

TokenName = Annotated[
    str,
    Path(alias="tokenName", pattern=NAME.pattern, description="5 to 50 letters, digits and hyphens."),
]
PasswordNameParam = Annotated[Literal["password1", "password2"], Path(alias="passwordName")]


def token_view(scope: Scope, registry: RegistryRecord, view: TokenView) -> Token:
    registry_id = scope.registry_id(registry)
    token = view.token
    return Token(
        id=f"{registry_id}/tokens/{token.name}",
        name=token.name,
        type=TYPE,
        properties=TokenProperties(
            creation_date=iso(token.created_at),
            provisioning_state="Succeeded",
            scope_map_id=scope_map_id(registry_id, token.scope_map),
            status="enabled" if token.enabled else "disabled",
            credentials=TokenCredentials(
                username=token.name,
                certificates=[],
                passwords=[
                    TokenPassword(name=p.name, creation_time=iso(p.created_at), expiry=iso(p.expires_at))
                    for p in view.passwords
                ],
            ),
        ),
    )


def _child_name(resource_id: str, registry_id: str, kind: str, field: str) -> str:
    """The last segment of ``<registry id>/<kind>/<name>``; a bare name is taken as it is."""
    if "/" not in resource_id:
        return resource_id
    prefix = f"{registry_id}/{kind}/".lower()
    name = resource_id[len(prefix) :] if resource_id.lower().startswith(prefix) else ""
    if not name or "/" in name:
        raise invalid(
            f"{field} '{resource_id}' is not one of this registry's {kind}: use {registry_id}/{kind}/<name>.",
            field,
        )
    return name


def _scope_map_name(scope: Scope, registry: RegistryRecord, scope_map_id: str) -> str:
    return _child_name(scope_map_id, scope.registry_id(registry), "scopeMaps", "properties.scopeMapId")


@router.get(TOKENS, response_model=ListOf[Token], operation_id="Tokens_List")
async def list_tokens(scope: RegistryDep) -> ListOf[Token]:
    registry = await scope.authorized_registry(READ, f"{TYPE}/read")
    views = await scope.api.management.scoped.list_tokens(registry)
    return ListOf[Token](value=[token_view(scope, registry, view) for view in views])


@router.get(TOKEN, response_model=Token, operation_id="Tokens_Get")
async def get_token(scope: RegistryDep, name: TokenName) -> Token:
    registry = await scope.authorized_registry(READ, f"{TYPE}/read")
    return token_view(scope, registry, await scope.api.management.scoped.get_token(registry, name))


@router.put(TOKEN, response_model=Token, responses=CREATED, operation_id="Tokens_Create")
async def put_token(scope: RegistryDep, name: TokenName, body: TokenCreate, response: Response) -> Token:
    """Create (201) or replace (200) a token: its scope map and status. No passwords yet."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/write")
    scoped = scope.api.management.scoped
    properties = body.properties
    if properties.scope_map_id is None:
        raise invalid(
            "properties.scopeMapId is required: the scope map the token uses.", "properties.scopeMapId"
        )
    scope_map = _scope_map_name(scope, registry, properties.scope_map_id)
    existing = await or_none(scoped.get_token(registry, name))
    view = await scoped.put_token(registry, name, scope_map, enabled=properties.status != "disabled")
    if properties.credentials is not None:
        view = await scoped.keep_passwords(view, {p.name for p in properties.credentials.passwords})
    if existing is None:
        response.status_code = 201
    return token_view(scope, registry, view)


@router.patch(TOKEN, response_model=Token, operation_id="Tokens_Update")
async def update_token(scope: RegistryDep, name: TokenName, body: TokenUpdate) -> Token:
    """Change the scope map or status; ``credentials.passwords`` lists the passwords to keep."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/write")
    scoped = scope.api.management.scoped
    current = await scoped.get_token(registry, name)
    properties = body.properties
    if properties is None:
        return token_view(scope, registry, current)
    scope_map = current.token.scope_map
    if properties.scope_map_id is not None:
        scope_map = _scope_map_name(scope, registry, properties.scope_map_id)
    enabled = current.token.enabled if properties.status is None else properties.status == "enabled"
    view = await scoped.put_token(registry, current.token.name, scope_map, enabled=enabled)
    if properties.credentials is not None:
        view = await scoped.keep_passwords(view, {p.name for p in properties.credentials.passwords})
    return token_view(scope, registry, view)


@router.delete(
    TOKEN,
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Deleted"}, 204: {"description": "There was no such token"}},
    operation_id="Tokens_Delete",
)
async def delete_token(scope: RegistryDep, name: TokenName) -> Response:
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/delete")
    return await deleted(scope.api.management.scoped.delete_token(registry, name))


@router.delete(
    TOKEN + "/passwords/{passwordName}", response_model=Token, operation_id="Tokens_DeletePassword"
)
async def delete_token_password(scope: RegistryDep, name: TokenName, password: PasswordNameParam) -> Token:
    """Remove one of the token's passwords (404 if it has none by that name)."""
    registry = await scope.authorized_registry(WRITE, f"{TYPE}/write")
    view = await scope.api.management.scoped.delete_password(registry, name, password)
    return token_view(scope, registry, view)


@router.post(
    REGISTRY + "/generateCredentials",
    response_model=GeneratedCredentials,
    operation_id="Registries_GenerateCredentials",
)
async def generate_credentials(scope: RegistryDep, body: GenerateCredentialsRequest) -> GeneratedCredentials:
    """New values for a token's ``password1``, ``password2`` or (no ``name``) both."""
    registry = await scope.authorized_registry(
        WRITE, "Microsoft.ContainerRegistry/registries/generateCredentials/action"
    )
    scoped = scope.api.management.scoped
    token_name = _child_name(body.token_id, scope.registry_id(registry), "tokens", "tokenId")
    token = (await scoped.get_token(registry, token_name)).token
    expires_at = body.expiry.timestamp() if body.expiry is not None else None
    generated = [
        await scoped.generate_password(token, name, expires_at)
        for name in ([body.name] if body.name else PASSWORD_NAMES)
    ]
    return GeneratedCredentials(
        username=token.name,
        passwords=[
            GeneratedPassword(
                name=p.name, value=p.value.reveal(), creation_time=iso(p.created_at), expiry=iso(p.expires_at)
            )
            for p in generated
        ],
    )
