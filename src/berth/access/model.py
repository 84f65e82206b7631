"""The access seam: what a request needs, and the decision about it.

Every data-plane request passes one :class:`AccessController`. Its answer is a value: a
:class:`Grant` naming who the caller is, or a :class:`Denial` carrying the machine reason, the
wire error the client sees, and the challenge headers. The dispatcher turns a denial into the
response, the login event and the metric in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from berth.errors import WireError

if TYPE_CHECKING:  # keeps this module (and berth.access.scopes) light enough for the CLI to import
    from berth.metadata.registries import RegistryRecord


class Action(StrEnum):
    """Docker token-scope actions berth understands."""

    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    METADATA_READ = "metadata_read"
    METADATA_WRITE = "metadata_write"
    ALL = "*"


@dataclass(frozen=True, slots=True)
class Access:
    """One resource action, as in a docker scope ``<type>:<name>:<action>``."""

    type: str
    name: str
    action: str

    @classmethod
    def repository(cls, name: str, action: Action | str) -> Access:
        return cls("repository", name, str(action))

    @classmethod
    def catalog(cls) -> Access:
        return cls("registry", "catalog", Action.ALL)


def scope_string(accesses: list[Access] | tuple[Access, ...]) -> str:
    """The docker scope for a list of accesses, actions of one resource joined by commas."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for access in accesses:
        grouped.setdefault((access.type, access.name), []).append(access.action)
    return " ".join(f"{kind}:{name}:{','.join(actions)}" for (kind, name), actions in grouped.items())


class IdentityKind(StrEnum):
    USER = "user"
    SERVICE_PRINCIPAL = "service_principal"
    ADMIN = "admin"
    TOKEN = "token"
    ANONYMOUS = "anonymous"
    INSECURE = "insecure"
    UNKNOWN = "unknown"  # a name that was presented but resolved to nothing


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    name: str  # UPN, application id, registry name, token name; "" for anonymous
    object_id: str = ""

    @property
    def label(self) -> str:
        return self.name or self.kind.value

    @classmethod
    def presented(cls, name: str) -> Identity:
        """An identity known only by the name a caller presented."""
        return cls(IdentityKind.UNKNOWN, name)


@dataclass(frozen=True)
class AuthOutcome:
    """One authentication attempt, as the login events record it (never holds a secret)."""

    operation: str  # "token", "exchange", "basic", "directory"
    identity: Identity | None
    reason: str = ""  # empty on success
    detail: str = ""
    requested: tuple[Access, ...] = ()
    granted: tuple[Access, ...] = ()
    jwt_id: str = ""
    status: int = 200


@dataclass(frozen=True)
class AccessRequest:
    """What the access step needs to know about one request."""

    registry: RegistryRecord
    accesses: tuple[Access, ...]
    authorization: str | None
    client_ip: str
    service: str  # the login server the client addressed (host[:port], lower case)
    realm: str  # absolute URL of the token endpoint for the challenge
    user_agent: str = ""
    correlation_id: str = ""
    optional: tuple[Access, ...] = ()  # offered in a challenge besides ``accesses``, not required


class Permissions(Protocol):
    """What an identity may do in a registry (``berth.access.permissions.RegistryPermissions``)."""

    def actions_for(self, kind: str, name: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Grant:
    identity: Identity
    granted: frozenset[Access] = frozenset()
    jwt_id: str = ""
    credential: str = ""  # how the caller authenticated: "bearer", "basic", "portal" or "" (none needed)
    # What the identity may do in the registry now; None where everything is allowed (insecure).
    permissions: Permissions | None = None

    def may(self, access: Access) -> bool:
        """Whether the caller may also do ``access`` (beyond what the request itself needed).

        A bearer token allows only what it lists, and only while the identity still may; Basic
        credentials allow whatever the identity may do now.
        """
        if self.permissions is None:
            return True
        if self.credential == "bearer" and access not in self.granted:
            return False
        return access.action in self.permissions.actions_for(access.type, access.name)


@dataclass(frozen=True)
class Denial:
    """A refused request: the machine reason stays server-side, ``error`` goes to the client."""

    reason: str
    error: WireError
    identity: Identity | None = None
    detail: str = ""  # server-side explanation for events and diagnose (never a secret)
    requested: tuple[Access, ...] = field(default_factory=tuple)
    credential: str = ""  # "basic" or "bearer" when credentials were presented and failed


class AccessController(Protocol):
    async def authorize(self, request: AccessRequest) -> Grant | Denial: ...


class AllowAll:
    """The ``insecure_no_auth`` controller: every request is granted. For local experiments only."""

    async def authorize(self, request: AccessRequest) -> Grant:
        return Grant(Identity(IdentityKind.INSECURE, "insecure-no-auth"), frozenset(request.accesses))
