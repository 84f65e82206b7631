"""A registry's content: repositories (search, paging), a repository's tags and manifests, one
manifest's layers, platforms and referrers, and deleting a repository, tag or manifest.

Seeing content needs the data-plane ``metadata_read`` action (AcrPull, AcrPush, Reader and up);
deleting needs ``delete`` (AcrDelete, Contributor, Owner), exactly as on the registry's own API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from berth import errors
from berth.access.model import Grant, Identity, IdentityKind
from berth.content.artifacts import ArtifactService
from berth.content.manifests import ManifestService
from berth.content.repositories import RepositoryService
from berth.errors import WireError
from berth.events.observer import RepositoryOperation, RequestSummary, new_correlation_id
from berth.events.requestlog import correlation_id_of
from berth.management.errors import ManagementError
from berth.metadata import pulls
from berth.metadata.registries import RegistryRecord
from berth.portal import queries
from berth.portal.pages import Portal, read_form
from berth.portal.session import PortalUser
from berth.registry.clients import client_ip

LOCKABLE = ("writeEnabled", "deleteEnabled")
PAGE_SIZE = 50
TAG_PAGE_SIZE = 100


def _refused(user: PortalUser, record: RegistryRecord, action: str) -> ManagementError:
    return ManagementError(
        "AuthorizationFailed",
        f"The client '{user.name}' does not have permission to {action} in registry '{record.name}'.",
        403,
    )


class ContentPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.services = portal.services

    async def _readable(self, request: Request, user: PortalUser) -> RegistryRecord:
        record = await self.portal.registry(user, request.path_params["name"])
        if "metadata_read" not in user.data_actions(record):
            raise _refused(user, record, "read the content")
        return record

    def _artifacts(self, record: RegistryRecord) -> ArtifactService:
        return ArtifactService(record.id, self.services.db, self.services.pull_cache)

    def _common(self, record: RegistryRecord, user: PortalUser) -> dict[str, Any]:
        return {
            "registry": record,
            "login_server": self.services.management.registries.login_server(record),
            "can_delete": "delete" in user.data_actions(record),
            "can_lock": "metadata_write" in user.data_actions(record),
            "manage": user.can_read(record),
            "tab": "content",
        }

    async def repositories(self, request: Request, user: PortalUser) -> Response:
        record = await self._readable(request, user)
        text = request.query_params.get("q", "")[:255]
        after = request.query_params.get("after", "")[:255] or None
        names = await self.services.db.read(
            queries.search_repositories, record.id, text, after, PAGE_SIZE + 1
        )
        more = len(names) > PAGE_SIZE
        names = names[:PAGE_SIZE]
        template = "repositories_list.html" if request.headers.get("hx-request") else "repositories.html"
        return self.portal.render(
            request,
            template,
            user,
            names=names,
            q=text,
            after=after,
            next_after=names[-1] if more else None,
            **self._common(record, user),
        )

    async def repository(self, request: Request, user: PortalUser) -> Response:
        record = await self._readable(request, user)
        name = request.query_params.get("repo", "")
        artifacts = self._artifacts(record)
        properties = await artifacts.repository(name)
        last = request.query_params.get("last", "") or None
        tags = await artifacts.tags(name, last, TAG_PAGE_SIZE + 1, "timedesc")
        manifests = await artifacts.manifests(name, None, TAG_PAGE_SIZE, "timedesc")
        return self.portal.render(
            request,
            "repository.html",
            user,
            repo=properties,
            tags=tags[:TAG_PAGE_SIZE],
            next_last=tags[TAG_PAGE_SIZE - 1].name if len(tags) > TAG_PAGE_SIZE else None,
            manifests=manifests,
            **self._common(record, user),
        )

    async def manifest(self, request: Request, user: PortalUser) -> Response:
        record = await self._readable(request, user)
        name = request.query_params.get("repo", "")
        digest = request.query_params.get("digest", "")
        properties = await self._artifacts(record).manifest(name, digest)
        found = await self.services.db.read(pulls.lookup, record.id, name, digest, by_tag=False)
        content = queries.parse_content(found.content or b"")
        repo_id = found.repository.id if found.repository else 0
        tree = await self.services.db.read(queries.referrer_tree, repo_id, digest)
        return self.portal.render(
            request,
            "manifest.html",
            user,
            repo_name=name,
            manifest=properties,
            content=content,
            referrers=tree,
            **self._common(record, user),
        )

    async def _deletable(self, request: Request, user: PortalUser) -> RegistryRecord:
        record = await self._readable(request, user)
        if "delete" not in user.data_actions(record):
            raise _refused(user, record, "delete content")
        return record

    async def lock(self, request: Request, user: PortalUser) -> Response:
        """Set one of ACR's changeable attributes (``writeEnabled``, ``deleteEnabled``) of a
        repository, a tag or a manifest: needs ``metadata_write``, as ``PATCH /acr/v1/...``."""
        record = await self._readable(request, user)
        if "metadata_write" not in user.data_actions(record):
            raise _refused(user, record, "change the locks")
        form = await read_form(request)
        attribute = form.one("attribute")
        if attribute not in LOCKABLE:
            raise ManagementError(
                "InvalidParameter", f"'{attribute[:40]}' is not writeEnabled or deleteEnabled.", 400
            )
        changes = {attribute: form.one("value") == "true"}
        name, tag, digest = form.one("repo"), form.one("tag"), form.one("digest")
        artifacts = self._artifacts(record)
        if tag:
            await artifacts.update_tag(name, tag, changes)
        elif digest:
            await artifacts.update_manifest(name, digest, changes)
            return RedirectResponse(_manifest_url(record, name, digest), status_code=303)
        else:
            await artifacts.update_repository(name, changes)
        return RedirectResponse(_repository_url(record, name), status_code=303)

    async def delete_repository(self, request: Request, user: PortalUser) -> Response:
        record = await self._deletable(request, user)
        form = await read_form(request)
        name = form.one("repo")
        if form.one("confirm") != name:
            raise ManagementError(
                "ConfirmationMismatch", f"Type the repository's name ({name}) to delete it.", 400
            )
        deleted = await RepositoryService(record.id, self.services.db, self.services.pull_cache).delete(name)
        self._record(request, user, record, RepositoryOperation("Delete", name, tag=",".join(deleted.tags)))
        return RedirectResponse(f"/portal/r/{record.name}/repositories", status_code=303)

    async def delete_tag(self, request: Request, user: PortalUser) -> Response:
        record = await self._deletable(request, user)
        form = await read_form(request)
        name = form.one("repo")
        untagged = await self._artifacts(record).untag(name, form.one("tag"))
        operation = RepositoryOperation("Untag", name, tag=untagged.tag, digest=untagged.digest)
        self._record(request, user, record, operation)
        return RedirectResponse(_repository_url(record, name), status_code=303)

    async def delete_manifest(self, request: Request, user: PortalUser) -> Response:
        record = await self._deletable(request, user)
        form = await read_form(request)
        name, digest = form.one("repo"), form.one("digest")
        if not digest.startswith("sha256:") and not digest.startswith("sha512:"):
            raise WireError(errors.DIGEST_INVALID, f"'{digest[:80]}' is not a digest")
        store = self.services.store_for(record.id)
        removed = await ManifestService(record.id, self.services.db, store, self.services.pull_cache).delete(
            name, digest
        )
        self._record(
            request, user, record, RepositoryOperation("Delete", name, digest=digest, tag=",".join(removed))
        )
        return RedirectResponse(_repository_url(record, name), status_code=303)

    def _record(
        self, request: Request, user: PortalUser, record: RegistryRecord, operation: RepositoryOperation
    ) -> None:
        """A delete made here is a repository event like one made through the registry's API
        (the same operation names and columns), so ``acr logs`` and diagnose see who did it."""
        identity = user.caller.identity
        try:
            kind = IdentityKind(identity.kind)
        except ValueError:
            kind = IdentityKind.UNKNOWN
        self.services.observer.request_finished(
            RequestSummary(
                method=request.method,
                path=request.url.path,
                route="portal",
                status=303,
                duration_ms=0.0,
                client_ip=client_ip(request.scope, self.services.trusted_proxies),
                user_agent=request.headers.get("user-agent", ""),
                correlation_id=correlation_id_of(request.scope) or new_correlation_id(),
                login_server=self.services.management.registries.login_server(record),
                registry=record,
                grant=Grant(Identity(kind, identity.name, identity.id), credential="portal"),
                operations=[operation],
            )
        )


def _manifest_url(record: RegistryRecord, name: str, digest: str) -> str:
    return f"/portal/r/{record.name}/manifest?repo={quote(name, safe='')}&digest={quote(digest, safe='')}"


def _repository_url(record: RegistryRecord, name: str) -> str:
    return f"/portal/r/{record.name}/repository?repo={quote(name, safe='')}"
