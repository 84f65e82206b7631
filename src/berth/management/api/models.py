"""Request and response bodies of the management API, with ARM's and Graph's JSON names.

Fields are snake_case in Python and camelCase on the wire (``adminUserEnabled``). Request
models ignore fields they do not know (clients often send back a whole resource they read,
read-only properties included); what they do read is validated here, so a bad value becomes a
``400 InvalidRequestContent`` naming the field. Enumerations accept any letter case, as ARM does.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from berth.management.api.fields import (
    DefaultAction,
    FutureTimestamp,
    Guid,
    IpRuleAction,
    IpRuleValue,
    Location,
    Name,
    OptionalName,
    PublicNetworkAccess,
    RegistryNameText,
    ResourceId,
    ScopeMapAction,
    ShortText,
    SkuName,
    Tags,
    TokenStatus,
    Upn,
)

T = TypeVar("T")


class Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request fields are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ListOf(Wire, Generic[T]):
    value: list[T]


class ErrorDetail(Wire):
    code: str
    message: str
    target: str | None = None


class ErrorResponse(Wire):
    """Every error: ``{"error": {"code", "message"}}`` (``target`` names a bad field)."""

    error: ErrorDetail


# --- subscriptions and registries -----------------------------------------------------------


class Subscription(Wire):
    id: str
    subscription_id: str
    tenant_id: str
    display_name: str
    state: str
    managed_by_tenants: list[dict[str, str]] = Field(default_factory=list)


class Sku(Wire):
    name: str
    tier: str


class SkuInput(Wire):
    name: SkuName


class IpRule(Wire):
    action: Literal["Allow"] = "Allow"
    value: str


class IpRuleInput(Wire):
    action: IpRuleAction = "Allow"
    value: IpRuleValue


class NetworkRuleSet(Wire):
    default_action: str
    ip_rules: list[IpRule]


class NetworkRuleSetInput(Wire):
    """Omitted fields keep their value on PATCH and take the default (Allow, no rules) on PUT."""

    default_action: DefaultAction | None = None
    ip_rules: Annotated[list[IpRuleInput], Field(max_length=200)] | None = None


class RegistryProperties(Wire):
    login_server: str
    creation_date: str | None
    provisioning_state: str
    admin_user_enabled: bool
    anonymous_pull_enabled: bool
    public_network_access: str
    network_rule_bypass_options: str
    network_rule_set: NetworkRuleSet
    data_endpoint_enabled: bool
    # berth's own: the bytes the registry may store (null: unlimited), and whether that is the
    # registry's own setting ("Registry") or the service's default_storage_quota ("Default").
    storage_quota: int | None = None
    storage_quota_source: Literal["Registry", "Default"] = "Default"


class Registry(Wire):
    id: str
    name: str
    type: str
    location: str
    tags: dict[str, str]
    sku: Sku
    properties: RegistryProperties


class RegistryPropertiesInput(Wire):
    admin_user_enabled: bool | None = None
    anonymous_pull_enabled: bool | None = None
    public_network_access: PublicNetworkAccess | None = None
    network_rule_set: NetworkRuleSetInput | None = None
    # berth's own: a size ("20GiB", "500MB", bytes), "unlimited", or "default" (the service's
    # default_storage_quota); omitted keeps the current setting.
    storage_quota: Annotated[str, Field(max_length=40)] | None = None


class RegistryCreate(Wire):
    """PUT: the registry as a whole; what is omitted takes its default."""

    location: Location = "local"
    sku: SkuInput | None = None
    tags: Tags | None = None
    properties: RegistryPropertiesInput | None = None


class RegistryUpdate(Wire):
    """PATCH: only what is given changes."""

    sku: SkuInput | None = None
    tags: Tags | None = None
    properties: RegistryPropertiesInput | None = None


class NameAvailabilityRequest(Wire):
    name: RegistryNameText
    type: Literal["Microsoft.ContainerRegistry/registries"] = "Microsoft.ContainerRegistry/registries"


class NameAvailability(Wire):
    name_available: bool
    reason: str | None = None
    message: str | None = None


# --- admin credentials ----------------------------------------------------------------------


class AdminPassword(Wire):
    name: str
    value: str | None  # only in the answer that generated it


class AdminCredentials(Wire):
    username: str
    passwords: list[AdminPassword]


class RegenerateCredentialRequest(Wire):
    name: Literal["password", "password2"]


# --- scope maps and tokens ------------------------------------------------------------------


class ScopeMapProperties(Wire):
    description: str
    type: str
    creation_date: str | None
    provisioning_state: str
    actions: list[str]


class ScopeMap(Wire):
    id: str
    name: str
    type: str
    properties: ScopeMapProperties


class ScopeMapPropertiesInput(Wire):
    description: OptionalName | None = None
    actions: Annotated[list[ScopeMapAction], Field(max_length=500)] | None = None


class ScopeMapCreateProperties(Wire):
    description: OptionalName = ""
    actions: Annotated[list[ScopeMapAction], Field(min_length=1, max_length=500)]


class ScopeMapCreate(Wire):
    properties: ScopeMapCreateProperties


class ScopeMapUpdate(Wire):
    properties: ScopeMapPropertiesInput | None = None


class TokenPassword(Wire):
    name: str
    creation_time: str | None
    expiry: str | None


class TokenCredentials(Wire):
    username: str
    certificates: list[dict[str, Any]]
    passwords: list[TokenPassword]


class TokenProperties(Wire):
    creation_date: str | None
    provisioning_state: str
    scope_map_id: str
    status: str
    credentials: TokenCredentials


class Token(Wire):
    id: str
    name: str
    type: str
    properties: TokenProperties


class PasswordName(Wire):
    name: Literal["password1", "password2"]


class TokenCredentialsInput(Wire):
    """On PATCH, the passwords to keep (as ``az acr token credential delete`` sends them)."""

    passwords: Annotated[list[PasswordName], Field(max_length=2)] = []


class TokenPropertiesInput(Wire):
    scope_map_id: ResourceId | None = None
    status: TokenStatus | None = None
    credentials: TokenCredentialsInput | None = None


class TokenCreate(Wire):
    properties: TokenPropertiesInput


class TokenUpdate(Wire):
    properties: TokenPropertiesInput | None = None


class GenerateCredentialsRequest(Wire):
    token_id: ResourceId
    name: Literal["password1", "password2"] | None = None  # omitted: both
    expiry: FutureTimestamp | None = None


class GeneratedPassword(Wire):
    name: str
    value: str
    creation_time: str | None
    expiry: str | None


class GeneratedCredentials(Wire):
    username: str
    passwords: list[GeneratedPassword]


# --- role definitions and assignments -------------------------------------------------------


class Permission(Wire):
    actions: list[str]
    not_actions: list[str]
    data_actions: list[str]
    not_data_actions: list[str]


class RoleDefinitionProperties(Wire):
    role_name: str
    type: str
    description: str
    assignable_scopes: list[str]
    permissions: list[Permission]


class RoleDefinition(Wire):
    id: str
    name: str
    type: str
    properties: RoleDefinitionProperties


class RoleAssignmentProperties(Wire):
    role_definition_id: str
    principal_id: str
    principal_type: str
    scope: str
    created_on: str | None
    updated_on: str | None


class RoleAssignment(Wire):
    id: str
    name: str
    type: str
    properties: RoleAssignmentProperties


class RoleAssignmentPropertiesInput(Wire):
    role_definition_id: ResourceId
    principal_id: Guid
    principal_type: ShortText | None = None  # ignored


class RoleAssignmentCreate(Wire):
    properties: RoleAssignmentPropertiesInput


# --- users and service principals (Graph) ---------------------------------------------------


class User(Wire):
    id: str
    user_principal_name: str | None
    display_name: str
    account_enabled: bool


class PasswordProfile(Wire):
    password: Annotated[SecretStr, Field(min_length=1, max_length=256)]


class UserCreate(Wire):
    user_principal_name: Upn
    display_name: OptionalName = ""
    password_profile: PasswordProfile
    account_enabled: bool = True


class AccountUpdate(Wire):
    account_enabled: bool | None = None


class PasswordCredential(Wire):
    key_id: str
    hint: str
    display_name: str
    start_date_time: str | None
    end_date_time: str | None


class ServicePrincipal(Wire):
    id: str
    app_id: str | None
    display_name: str
    account_enabled: bool
    service_principal_type: str
    service_principal_names: list[str]
    password_credentials: list[PasswordCredential]


class ServicePrincipalCreate(Wire):
    """``displayName`` makes a new service principal; ``appId`` (as az sends after creating an
    application) names the application's, which berth made with it."""

    display_name: Name | None = None
    app_id: Guid | None = None


class PasswordCredentialInput(Wire):
    display_name: OptionalName | None = None
    end_date_time: FutureTimestamp | None = None


class AddPasswordRequest(Wire):
    password_credential: PasswordCredentialInput | None = None


class AddedPassword(Wire):
    key_id: str
    secret_text: str
    hint: str
    display_name: str
    start_date_time: str | None
    end_date_time: str | None


class RemovePasswordRequest(Wire):
    key_id: Guid
