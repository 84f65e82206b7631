"""The value types request bodies are made of, each with its validation.

Every string refuses NUL characters and lone surrogates (they cannot be stored), lengths match
the columns they end up in, enumerations accept any letter case (as ARM does) and answer with
their canonical spelling, times without a zone are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from berth.access.principals import GUID
from berth.management.errors import ManagementError
from berth.management.registries import check_ip_rule


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


def _representable(value: datetime) -> datetime:
    """A time whose UTC reading is a date Python (and ARM's format) can write: year 9999 at most."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be no later than 9999-12-31T23:59:59Z") from None
    return value


def _future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as ARM writes times: ``2026-11-28T11:00:00.000000+00:00``."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_clean)]
OptionalName = Annotated[str, Field(max_length=256), AfterValidator(_clean)]
Upn = Annotated[str, Field(min_length=3, max_length=256), AfterValidator(_clean)]
Guid = Annotated[str, AfterValidator(_guid)]
ResourceId = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_clean)]
ShortText = Annotated[str, Field(max_length=64), AfterValidator(_clean)]
RegistryNameText = Annotated[str, Field(max_length=1024), AfterValidator(_clean)]
FutureTimestamp = Annotated[
    datetime, AfterValidator(_utc), AfterValidator(_representable), AfterValidator(_future)
]
Location = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_clean)]
TagName = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_clean)]
TagValue = Annotated[str, Field(max_length=256), AfterValidator(_clean)]
Tags = Annotated[dict[TagName, TagValue], Field(max_length=50)]
IpRuleValue = Annotated[str, Field(max_length=64), AfterValidator(_clean), AfterValidator(_ip_rule_value)]
ScopeMapAction = Annotated[str, Field(max_length=600), AfterValidator(_clean)]
PublicNetworkAccess = Annotated[Literal["Enabled", "Disabled"], _one_of("Enabled", "Disabled")]
DefaultAction = Annotated[Literal["Allow", "Deny"], _one_of("Allow", "Deny")]
IpRuleAction = Annotated[Literal["Allow"], _one_of("Allow")]
SkuName = Annotated[Literal["Basic", "Standard", "Premium"], _one_of("Basic", "Standard", "Premium")]
TokenStatus = Annotated[Literal["enabled", "disabled"], _one_of("enabled", "disabled")]
