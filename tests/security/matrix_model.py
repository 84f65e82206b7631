"""ACR's authorization model as data: every credential kind, every registry-plane action, and
the answer ACR documents for each combination.

Written from ACR's documentation (/work/shared/design/acr-reference.md), not from berth:

- §2.1: the scope each call needs (``/v2`` reads need ``pull``; uploads and manifest PUT need
  ``push``; deletes need ``delete``; ``/acr/v1`` reads ``metadata_read``, PATCH
  ``metadata_write``, DELETE ``delete``; both catalogs ``registry:catalog:*``);
- §0.9 and §2.4: a valid identity always gets a token, holding the intersection of what it asked
  for and what it may do; a data call beyond it is ``401`` with ``error="insufficient_scope"``;
- §3: anonymous pull reads every repository of its registry and writes nothing; a call without
  credentials still gets the plain challenge, anonymous access goes through ``/oauth2/token``;
  issue 8 (finding 14) decides that anonymous callers never list the catalog;
- §4.2: the data actions of AcrPull, AcrPush, AcrDelete, Reader, Contributor and Owner;
  a valid directory identity without a role on the registry is ``403 DENIED``
  (``retrieving permissions failed``);
- §5: a repository-scoped token holds exactly its scope map's actions, on the repositories the
  map names, and never the catalog;
- §2.5 and §15: every token is for one registry (``aud`` = its login server); credentials of
  one registry mean nothing at another.

A row is a :class:`Credential`; a column an :class:`Endpoint`; :func:`expect` gives the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PULL = "pull"
PUSH = "push"
DELETE = "delete"
META_READ = "metadata_read"
META_WRITE = "metadata_write"
CATALOG = "catalog"
REPOSITORY_ACTIONS = frozenset({PULL, PUSH, DELETE, META_READ, META_WRITE})
EVERYTHING = REPOSITORY_ACTIONS | {CATALOG}

OWN_REPOSITORY = "team/app"  # the repository a scope map names
OTHER_REPOSITORY = "team/other"

UNAUTHORIZED = "UNAUTHORIZED"
DENIED = "DENIED"
INSUFFICIENT_SCOPE = "insufficient_scope"
INVALID_TOKEN = "invalid_token"


class Mode(StrEnum):
    """How the credential reaches the data call."""

    BASIC = "basic"  # Basic credentials straight on the data call (no Authorization for anonymous)
    BEARER = "bearer"  # GET /oauth2/token at the addressed registry, then Bearer on the data call
    FORM = "form"  # the same with POST /oauth2/token (password or refresh grant), as az and the SDK
    REPLAY = "replay"  # a token the own registry issued, presented at the other registry


class Side(StrEnum):
    OWN = "own"
    OTHER = "other"


# --- columns: the registry plane's actions -------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # with {repo}, {tag}, {manifest}, {layer}, {session}
    needs: str  # a repository action, or CATALOG
    success: int
    destructive: bool = False  # a success removes content the other cells read: restore it
    session: bool = False  # needs an upload session of the repository

    @property
    def on_repository(self) -> bool:
        return self.needs != CATALOG

    def scope(self, repository: str) -> str:
        """The docker scope ACR's challenge names for this call (§2.1)."""
        return "registry:catalog:*" if self.needs == CATALOG else f"repository:{repository}:{self.needs}"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("catalog", "GET", "/v2/_catalog", CATALOG, 200),
    Endpoint("acr-catalog", "GET", "/acr/v1/_catalog", CATALOG, 200),
    Endpoint("tags-list", "GET", "/v2/{repo}/tags/list", PULL, 200),
    Endpoint("manifest-get", "GET", "/v2/{repo}/manifests/{tag}", PULL, 200),
    Endpoint("manifest-head", "HEAD", "/v2/{repo}/manifests/{manifest}", PULL, 200),
    Endpoint("manifest-put", "PUT", "/v2/{repo}/manifests/{tag}", PUSH, 201),
    Endpoint("manifest-delete", "DELETE", "/v2/{repo}/manifests/{manifest}", DELETE, 202, destructive=True),
    Endpoint("blob-get", "GET", "/v2/{repo}/blobs/{layer}", PULL, 200),
    Endpoint("blob-head", "HEAD", "/v2/{repo}/blobs/{layer}", PULL, 200),
    Endpoint("blob-delete", "DELETE", "/v2/{repo}/blobs/{layer}", DELETE, 202, destructive=True),
    Endpoint("upload-post", "POST", "/v2/{repo}/blobs/uploads/", PUSH, 202),
    Endpoint("upload-status", "GET", "/v2/{repo}/blobs/uploads/{session}", PUSH, 204, session=True),
    Endpoint("upload-patch", "PATCH", "/v2/{repo}/blobs/uploads/{session}", PUSH, 202, session=True),
    Endpoint("upload-put", "PUT", "/v2/{repo}/blobs/uploads/{session}", PUSH, 201, session=True),
    Endpoint("upload-cancel", "DELETE", "/v2/{repo}/blobs/uploads/{session}", PUSH, 204, session=True),
    Endpoint("referrers", "GET", "/v2/{repo}/referrers/{manifest}", PULL, 200),
    Endpoint("acr-repository-get", "GET", "/acr/v1/{repo}", META_READ, 200),
    Endpoint("acr-repository-patch", "PATCH", "/acr/v1/{repo}", META_WRITE, 200),
    Endpoint("acr-repository-delete", "DELETE", "/acr/v1/{repo}", DELETE, 202, destructive=True),
    Endpoint("acr-tags-list", "GET", "/acr/v1/{repo}/_tags", META_READ, 200),
    Endpoint("acr-tag-get", "GET", "/acr/v1/{repo}/_tags/{tag}", META_READ, 200),
    Endpoint("acr-tag-patch", "PATCH", "/acr/v1/{repo}/_tags/{tag}", META_WRITE, 200),
    Endpoint("acr-tag-delete", "DELETE", "/acr/v1/{repo}/_tags/{tag}", DELETE, 202, destructive=True),
    Endpoint("acr-manifests-list", "GET", "/acr/v1/{repo}/_manifests", META_READ, 200),
    Endpoint("acr-manifest-get", "GET", "/acr/v1/{repo}/_manifests/{manifest}", META_READ, 200),
    Endpoint("acr-manifest-patch", "PATCH", "/acr/v1/{repo}/_manifests/{manifest}", META_WRITE, 200),
)


# --- rows: the credential kinds ------------------------------------------------------------

ROLE_ACTIONS: dict[str, frozenset[str]] = {  # §4.2, RBAC mode
    "AcrPull": frozenset({PULL, META_READ, CATALOG}),
    "AcrPush": frozenset({PULL, PUSH, META_READ, META_WRITE, CATALOG}),
    "AcrDelete": frozenset({DELETE}),
    "Reader": frozenset({PULL, META_READ, CATALOG}),
    "Contributor": EVERYTHING,
    "Owner": EVERYTHING,
}
SCOPE_MAP_ACTIONS = {  # §5.1: scope-map action -> docker action
    "content/read": PULL,
    "content/write": PUSH,
    "content/delete": DELETE,
    "metadata/read": META_READ,
    "metadata/write": META_WRITE,
}


class Kind(StrEnum):
    ANONYMOUS = "anonymous"
    ADMIN = "admin"  # username = registry name
    SERVICE_PRINCIPAL = "sp"  # username = application id
    TOKEN = "token"  # username = token name
    NULL_GUID = "null-guid"  # username = the null GUID, password = an ACR refresh token
    USER_PASSWORD = "user-password"  # username = a user's UPN: ACR takes no user passwords (§2.2)


class Refusal(StrEnum):
    """Why authentication fails before any permission is looked at."""

    BAD_CREDENTIALS = "bad-credentials"  # 401 UNAUTHORIZED: unknown, disabled, expired, foreign
    NO_ROLE = "no-role"  # 403 DENIED: a valid directory identity without a role on the registry


@dataclass(frozen=True)
class Credential:
    name: str
    kind: Kind
    description: str
    actions: frozenset[str] = frozenset()  # on the own registry (repository actions and CATALOG)
    only_repository: str | None = None  # a scope map naming one repository
    refused: Refusal | None = None  # at the own registry
    anonymous_pull: bool = False  # anonymous rows: the own registry's setting
    role: str | None = None  # set-up: the role a service principal or user holds on the own registry
    scope_action: str | None = None  # set-up: the one scope-map action of a token row
    subscription_wide: bool = False  # the role is assigned on the subscription: every registry

    def allowed(self, endpoint: Endpoint, repository: str) -> bool:
        if endpoint.needs not in self.actions:
            return False
        if self.only_repository is not None:
            return endpoint.on_repository and repository == self.only_repository
        return True

    def refusal_at(self, side: Side) -> Refusal | None:
        if side is Side.OWN or self.subscription_wide:
            return self.refused
        if self.kind is Kind.SERVICE_PRINCIPAL and self.refused is None:
            return Refusal.NO_ROLE  # the directory knows it; the other registry gave it no role
        if self.kind is Kind.SERVICE_PRINCIPAL and self.refused is Refusal.NO_ROLE:
            return Refusal.NO_ROLE
        return Refusal.BAD_CREDENTIALS  # unknown there, or a token for another audience


def _sp(role: str | None) -> Credential:
    if role is None:
        return Credential(
            "sp-no-role", Kind.SERVICE_PRINCIPAL, "service principal without a role", refused=Refusal.NO_ROLE
        )
    return Credential(
        f"sp-{role.lower()}",
        Kind.SERVICE_PRINCIPAL,
        f"service principal with {role}",
        ROLE_ACTIONS[role],
        role=role,
    )


def _scoped(action: str) -> Credential:
    docker = SCOPE_MAP_ACTIONS[action]
    return Credential(
        f"token-{action.replace('/', '-')}",
        Kind.TOKEN,
        f"token whose scope map grants repositories/{OWN_REPOSITORY}/{action}",
        frozenset({docker}),
        only_repository=OWN_REPOSITORY,
        scope_action=action,
    )


USER_ROLE = "AcrPush"
REFRESH_ROLE = "Contributor"

CREDENTIALS: tuple[Credential, ...] = (
    Credential("anonymous-off", Kind.ANONYMOUS, "no credentials, anonymous pull off"),
    Credential(
        "anonymous-on",
        Kind.ANONYMOUS,
        "no credentials, anonymous pull on",
        frozenset({PULL, META_READ}),
        anonymous_pull=True,
    ),
    Credential("admin", Kind.ADMIN, "the admin user", EVERYTHING),
    *(_sp(role) for role in ("AcrPull", "AcrPush", "AcrDelete", "Reader", "Contributor", "Owner", None)),
    Credential(
        "sp-acrpush-subscription",
        Kind.SERVICE_PRINCIPAL,
        "service principal with AcrPush on the subscription (so on every registry)",
        ROLE_ACTIONS["AcrPush"],
        role="AcrPush",
        subscription_wide=True,
    ),
    Credential(
        "user-password",
        Kind.USER_PASSWORD,
        f"a user with {USER_ROLE} presenting UPN and password",
        refused=Refusal.BAD_CREDENTIALS,
        role=USER_ROLE,
    ),
    Credential(
        "user",
        Kind.NULL_GUID,
        f"a user with {USER_ROLE}, signed in through /oauth2/exchange (null GUID + refresh token)",
        ROLE_ACTIONS[USER_ROLE],
        role=USER_ROLE,
    ),
    Credential(
        "null-guid",
        Kind.NULL_GUID,
        f"the null GUID with the refresh token of a service principal with {REFRESH_ROLE}",
        ROLE_ACTIONS[REFRESH_ROLE],
        role=REFRESH_ROLE,
    ),
    *(_scoped(action) for action in SCOPE_MAP_ACTIONS),
    Credential(
        "token-disabled", Kind.TOKEN, "a disabled token (admin scope map)", refused=Refusal.BAD_CREDENTIALS
    ),
    Credential(
        "token-expired",
        Kind.TOKEN,
        "a token whose passwords expired (admin scope map)",
        refused=Refusal.BAD_CREDENTIALS,
    ),
    Credential(
        "sp-disabled",
        Kind.SERVICE_PRINCIPAL,
        "a disabled service principal with AcrPush",
        refused=Refusal.BAD_CREDENTIALS,
        role="AcrPush",
    ),
    Credential(
        "sp-expired",
        Kind.SERVICE_PRINCIPAL,
        "a service principal with AcrPush whose secret expired",
        refused=Refusal.BAD_CREDENTIALS,
        role="AcrPush",
    ),
    Credential(
        "user-disabled",
        Kind.NULL_GUID,
        "the refresh token of a user with AcrPush who was disabled since",
        refused=Refusal.BAD_CREDENTIALS,
        role="AcrPush",
    ),
)


# --- cells ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One cell's answer: at the token endpoint (``stage="token"``) or the data call."""

    stage: str
    status: int
    code: str | None = None  # the OCI error code; None for a success
    challenge_error: str | None = None  # the challenge's ``error`` parameter, when ACR documents one

    def describe(self) -> str:
        parts = [self.stage, str(self.status)]
        if self.code:
            parts.append(self.code)
        if self.challenge_error:
            parts.append(f'error="{self.challenge_error}"')
        return " ".join(parts)


def _refused(stage: str, refusal: Refusal) -> Expected:
    if refusal is Refusal.NO_ROLE:
        return Expected(stage, 403, DENIED)
    return Expected(stage, 401, UNAUTHORIZED)


def expect(credential: Credential, endpoint: Endpoint, repository: str, side: Side, mode: Mode) -> Expected:
    if mode is Mode.REPLAY:
        # Any token of the own registry, valid or not there, is no token at the other one.
        return Expected("data", 401, UNAUTHORIZED, INVALID_TOKEN)
    anonymous = credential.kind is Kind.ANONYMOUS
    if anonymous and mode is Mode.BASIC:
        return Expected("data", 401, UNAUTHORIZED)  # the plain challenge (§3, step 1)
    if anonymous:
        if side is Side.OTHER or not credential.anonymous_pull:
            return Expected("token", 401, UNAUTHORIZED)
    else:
        refusal = credential.refusal_at(side)
        if refusal is not None:
            return _refused("data" if mode is Mode.BASIC else "token", refusal)
    if credential.allowed(endpoint, repository):
        return Expected("data", endpoint.success)
    return Expected("data", 401, UNAUTHORIZED, INSUFFICIENT_SCOPE)


@dataclass(frozen=True)
class Cell:
    credential: Credential
    endpoint: Endpoint
    repository: str  # "" for the catalog
    side: Side
    mode: Mode

    @property
    def id(self) -> str:
        where = self.repository.replace("team/", "") if self.repository else "registry"
        return f"{self.credential.name}|{self.endpoint.name}|{where}|{self.side}-registry|{self.mode}"

    def expected(self) -> Expected:
        return expect(self.credential, self.endpoint, self.repository, self.side, self.mode)

    def expected_access(self) -> list[dict[str, object]]:
        """The ``access`` claim of the own registry's token for this call's scope (§2.4, §2.5):
        what was asked for, intersected with what the credential may do."""
        allowed = self.credential.allowed(self.endpoint, self.repository)
        if self.endpoint.on_repository:
            actions = [self.endpoint.needs] if allowed else []
            return [{"type": "repository", "name": self.repository, "actions": actions}]
        return [{"type": "registry", "name": "catalog", "actions": ["*"] if allowed else []}]


def replayable(credential: Credential) -> bool:
    """Whether the own registry issues this credential a token at all (else nothing to replay)."""
    if credential.kind is Kind.ANONYMOUS:
        return credential.anonymous_pull
    return credential.refused is None


def cells() -> list[Cell]:
    made: list[Cell] = []
    for credential in CREDENTIALS:
        for side in Side:
            modes = [Mode.BASIC, Mode.BEARER, Mode.FORM]
            if side is Side.OTHER and replayable(credential):
                modes.append(Mode.REPLAY)
            for mode in modes:
                for endpoint in ENDPOINTS:
                    repositories = (OWN_REPOSITORY, OTHER_REPOSITORY) if endpoint.on_repository else ("",)
                    made.extend(Cell(credential, endpoint, repo, side, mode) for repo in repositories)
    return made
