"""The OCI data plane's routes, declared as data.

Each route names its methods, path pattern, handler and the action it needs, so the access
step reads the required scope off the route, and docs and tests can enumerate every endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response

from berth.access.model import Access, Action
from berth.registry.context import RequestContext
from berth.registry.handlers import (
    acr_catalog,
    acr_diagnostics,
    acr_manifests,
    acr_repositories,
    acr_tags,
    base,
    blobs,
    catalog,
    manifests,
    oauth2,
    referrers,
    tags,
    uploads,
)

Handler = Callable[[RequestContext], Awaitable[Response]]
OptionalAccesses = Callable[[Mapping[str, str]], list[Access]]

_NAME = r"(?P<name>[^?#]+?)"
# /acr/v1/ names: no path component starts with "_" (none may in a repository name), so
# "<name>/_tags" and "_catalog" are never read as repository names. A %2F-encoded name
# (the Azure SDK's) arrives here decoded, the same as az's plain slashes.
_ACR_NAME = r"(?P<name>[^/_?#][^/?#]*(?:/[^/_?#][^/?#]*)*)"
_ACR_REPOSITORY = rf"^/acr/v1/{_ACR_NAME}$"
_ACR_TAGS = rf"^/acr/v1/{_ACR_NAME}/_tags$"
_ACR_TAG = rf"^/acr/v1/{_ACR_NAME}/_tags/(?P<tag>[^/]+)$"
_ACR_MANIFESTS = rf"^/acr/v1/{_ACR_NAME}/_manifests$"
_ACR_MANIFEST = rf"^/acr/v1/{_ACR_NAME}/_manifests/(?P<digest>[^/]+)$"


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    action: Action | None  # None: no scope needed beyond being authenticated (GET /v2/)
    on_registry: bool = False  # the access is to the registry (catalog), not a repository
    authenticate: bool = True  # False only for the token endpoints, which are the authentication
    template: str = ""
    # Accesses the handler uses when the caller holds them (a mount's source): offered in the
    # challenge, so a client asks for them, but never required.
    optional: OptionalAccesses | None = None

    def accesses(self, params: Mapping[str, str]) -> list[Access]:
        if self.action is None:
            return []
        return [Access.catalog()] if self.on_registry else [Access.repository(params["name"], self.action)]

    def optional_accesses(self, query: Mapping[str, str]) -> list[Access]:
        return self.optional(query) if self.optional is not None else []


def _route(
    name: str,
    methods: str,
    pattern: str,
    handler: Handler,
    action: Action | None,
    template: str,
    **options: object,
) -> Route:
    return Route(
        name=name,
        methods=frozenset(methods.split()),
        pattern=re.compile(pattern),
        handler=handler,
        action=action,
        template=template,
        **options,  # type: ignore[arg-type]
    )


def _mount_source(query: Mapping[str, str]) -> list[Access]:
    """A mount from ``from`` links the blob only if the caller may pull ``from`` too."""
    source = query.get("from")
    return [Access.repository(source, Action.PULL)] if query.get("mount") and source else []


ROUTES: tuple[Route, ...] = (
    _route("token", "GET", r"^/oauth2/token$", oauth2.token_get, None, "/oauth2/token", authenticate=False),
    _route(
        "token-post", "POST", r"^/oauth2/token$", oauth2.token_post, None, "/oauth2/token", authenticate=False
    ),
    _route(
        "exchange",
        "POST",
        r"^/oauth2/exchange$",
        oauth2.exchange,
        None,
        "/oauth2/exchange",
        authenticate=False,
    ),
    _route("ping", "GET HEAD", r"^/v2/?$", base.ping, None, "/v2/"),
    _route(
        "diagnostics-identity",
        "GET",
        r"^/acr/v1/_diagnostics/identity$",
        acr_diagnostics.identity,
        None,
        "/acr/v1/_diagnostics/identity",
    ),
    _route(
        "diagnostics-events",
        "GET",
        r"^/acr/v1/_diagnostics/events$",
        acr_diagnostics.own_events,
        None,
        "/acr/v1/_diagnostics/events",
    ),
    _route(
        "diagnostics-request",
        "GET",
        r"^/acr/v1/_diagnostics/requests/(?P<correlation>[^/]+)$",
        acr_diagnostics.rejected_request,
        None,
        "/acr/v1/_diagnostics/requests/<correlation id>",
        authenticate=False,
    ),
    _route(
        "catalog",
        "GET",
        r"^/v2/_catalog$",
        catalog.list_repositories,
        Action.ALL,
        "/v2/_catalog",
        on_registry=True,
    ),
    _route(
        "acr-catalog",
        "GET",
        r"^/acr/v1/_catalog$",
        acr_catalog.list_repositories,
        Action.ALL,
        "/acr/v1/_catalog",
        on_registry=True,
    ),
    _route("tags", "GET", rf"^/v2/{_NAME}/tags/list$", tags.list_tags, Action.PULL, "/v2/<name>/tags/list"),
    _route(
        "manifest",
        "GET HEAD",
        rf"^/v2/{_NAME}/manifests/(?P<reference>[^/]+)$",
        manifests.get_manifest,
        Action.PULL,
        "/v2/<name>/manifests/<reference>",
    ),
    _route(
        "manifest-put",
        "PUT",
        rf"^/v2/{_NAME}/manifests/(?P<reference>[^/]+)$",
        manifests.put_manifest,
        Action.PUSH,
        "/v2/<name>/manifests/<reference>",
    ),
    _route(
        "manifest-delete",
        "DELETE",
        rf"^/v2/{_NAME}/manifests/(?P<reference>[^/]+)$",
        manifests.delete_manifest,
        Action.DELETE,
        "/v2/<name>/manifests/<reference>",
    ),
    _route(
        "upload-start",
        "POST",
        rf"^/v2/{_NAME}/blobs/uploads/?$",
        uploads.start_upload,
        Action.PUSH,
        "/v2/<name>/blobs/uploads/",
        optional=_mount_source,
    ),
    _route(
        "upload-status",
        "GET",
        rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)$",
        uploads.upload_status,
        Action.PUSH,
        "/v2/<name>/blobs/uploads/<upload>",
    ),
    _route(
        "upload-chunk",
        "PATCH",
        rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)$",
        uploads.upload_chunk,
        Action.PUSH,
        "/v2/<name>/blobs/uploads/<upload>",
    ),
    _route(
        "upload-complete",
        "PUT",
        rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)$",
        uploads.complete_upload,
        Action.PUSH,
        "/v2/<name>/blobs/uploads/<upload>",
    ),
    _route(
        "upload-cancel",
        "DELETE",
        rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[^/]+)$",
        uploads.cancel_upload,
        Action.PUSH,
        "/v2/<name>/blobs/uploads/<upload>",
    ),
    _route(
        "blob",
        "GET HEAD",
        rf"^/v2/{_NAME}/blobs/(?P<digest>[^/]+)$",
        blobs.get_blob,
        Action.PULL,
        "/v2/<name>/blobs/<digest>",
    ),
    _route(
        "blob-delete",
        "DELETE",
        rf"^/v2/{_NAME}/blobs/(?P<digest>[^/]+)$",
        blobs.delete_blob,
        Action.DELETE,
        "/v2/<name>/blobs/<digest>",
    ),
    _route(
        "referrers",
        "GET",
        rf"^/v2/{_NAME}/referrers/(?P<digest>[^/]+)$",
        referrers.list_referrers,
        Action.PULL,
        "/v2/<name>/referrers/<digest>",
    ),
    _route(
        "acr-repository",
        "GET",
        _ACR_REPOSITORY,
        acr_repositories.get_repository,
        Action.METADATA_READ,
        "/acr/v1/<name>",
    ),
    _route(
        "acr-repository-update",
        "PATCH",
        _ACR_REPOSITORY,
        acr_repositories.update_repository,
        Action.METADATA_WRITE,
        "/acr/v1/<name>",
    ),
    _route(
        "acr-repository-delete",
        "DELETE",
        _ACR_REPOSITORY,
        acr_repositories.delete_repository,
        Action.DELETE,
        "/acr/v1/<name>",
    ),
    _route(
        "acr-tags",
        "GET",
        _ACR_TAGS,
        acr_tags.list_tags,
        Action.METADATA_READ,
        "/acr/v1/<name>/_tags",
    ),
    _route(
        "acr-tag",
        "GET",
        _ACR_TAG,
        acr_tags.get_tag,
        Action.METADATA_READ,
        "/acr/v1/<name>/_tags/<tag>",
    ),
    _route(
        "acr-tag-update",
        "PATCH",
        _ACR_TAG,
        acr_tags.update_tag,
        Action.METADATA_WRITE,
        "/acr/v1/<name>/_tags/<tag>",
    ),
    _route(
        "acr-tag-delete",
        "DELETE",
        _ACR_TAG,
        acr_tags.delete_tag,
        Action.DELETE,
        "/acr/v1/<name>/_tags/<tag>",
    ),
    _route(
        "acr-manifests",
        "GET",
        _ACR_MANIFESTS,
        acr_manifests.list_manifests,
        Action.METADATA_READ,
        "/acr/v1/<name>/_manifests",
    ),
    _route(
        "acr-manifest",
        "GET",
        _ACR_MANIFEST,
        acr_manifests.get_manifest,
        Action.METADATA_READ,
        "/acr/v1/<name>/_manifests/<digest>",
    ),
    _route(
        "acr-manifest-update",
        "PATCH",
        _ACR_MANIFEST,
        acr_manifests.update_manifest,
        Action.METADATA_WRITE,
        "/acr/v1/<name>/_manifests/<digest>",
    ),
)


@dataclass(frozen=True)
class Match:
    route: Route | None
    params: dict[str, str]
    allowed: frozenset[str]  # methods the path supports, for 405


def match(routes: tuple[Route, ...], method: str, path: str) -> Match:
    allowed: set[str] = set()
    for route in routes:
        found = route.pattern.match(path)
        if found is None:
            continue
        if method in route.methods:
            return Match(route, found.groupdict(), frozenset())
        allowed |= route.methods
    return Match(None, {}, frozenset(allowed))
