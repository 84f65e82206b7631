"""Request and response bodies of the management API, with ARM's and Graph's JSON names.

Fields are snake_case in Python and camelCase on the wire (``adminUserEnabled``). Request
models ignore fields they do not know (clients often send back a whole resource they read,
read-only properties included); what they do read is validated here, so a bad value becomes a
``400 InvalidRequestContent`` naming the field. Enumerations accept any letter case, as ARM does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from berth.access.principals import GUID
from berth.management.errors import ManagementError
from berth.management.registries import check_ip_rule

# --- building blocks ------------------------------------------------------------------------


def _clean(value: str) -> str:
    """No NUL characters and nothing that cannot be stored as UTF-8 (lone surrogates)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _one_of(*choices: str) -> BeforeValidator:
    """Match an enumeration value in any letter case, answering with its canonical spelling."""

    def normalize(value: Any) -> Any:
        if isinstance(value, str):
            for choice in choices:
                if value.lower() == choice.lower():
                    return choice
        return value

    return BeforeValidator(normalize)


def _guid(value: str) -> str:
    if not GUID.match(value):
        raise ValueError("must be a GUID such as 00000000-0000-0000-0000-000000000000")
    return value.lower()


def _ip_rule_value(value: str) -> str:
    try:
        return check_ip_rule(value)
    except ManagementError as exc:
        raise ValueError(exc.message) from None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value


T = TypeVar("T")
Text = Annotated[str, AfterValidator(_clean)]
Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_clean)]
Guid = Annotated[str, AfterValidator(_guid)]
Timestamp = Annotated[datetime, AfterValidator(_utc)]
FutureTimestamp = Annotated[datetime, AfterValidator(_utc), AfterValidator(_future)]
PublicNetworkAccess = Annotated[Literal["Enabled", "Disabled"], _one_of("Enabled", "Disabled")]
DefaultAction = Annotated[Literal["Allow", "Deny"], _one_of("Allow", "Deny")]
SkuName = Annotated[Literal["Basic", "Standard", "Premium"], _one_of("Basic", "Standard", "Premium")]
TokenStatus = Annotated[Literal["enabled", "disabled"], _one_of("enabled", "disabled")]
TagName = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_clean)]
TagValue = Annotated[str, Field(max_length=256), AfterValidator(_clean)]
Tags = Annotated[dict[TagName, TagValue], Field(max_length=50)]
Location = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_clean)]


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as ARM writes times: ``2026-11-28T11:00:00.000000+00:00``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


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


class Sku(Wire):
    name: str
    tier: str


class SkuInput(Wire):
    name: SkuName


class IpRule(Wire):
    action: Literal["Allow"] = "Allow"
    value: str


class IpRuleInput(Wire):
    action: Annotated[Literal["Allow"], _one_of("Allow")] = "Allow"
    value: Annotated[str, Field(max_length=64), AfterValidator(_clean), AfterValidator(_ip_rule_value)]


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
    name: Annotated[str, Field(max_length=1024), AfterValidator(_clean)]
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


ScopeMapAction = Annotated[str, Field(max_length=600), AfterValidator(_clean)]


class ScopeMapPropertiesInput(Wire):
    description: Annotated[str, Field(max_length=256), AfterValidator(_clean)] | None = None
    actions: Annotated[list[ScopeMapAction], Field(max_length=500)] | None = None


class ScopeMapCreateProperties(Wire):
    description: Annotated[str, Field(max_length=256), AfterValidator(_clean)] = ""
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


ResourceId = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_clean)]


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
    principal_type: Annotated[str, Field(max_length=64), AfterValidator(_clean)] | None = None  # ignored


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
    user_principal_name: Annotated[str, Field(min_length=3, max_length=256), AfterValidator(_clean)]
    display_name: Annotated[str, Field(max_length=256), AfterValidator(_clean)] = ""
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
    password_credentials: list[PasswordCredential]


class ServicePrincipalCreate(Wire):
    display_name: Name


class PasswordCredentialInput(Wire):
    display_name: Annotated[str, Field(max_length=256), AfterValidator(_clean)] | None = None
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
