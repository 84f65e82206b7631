"""ACR's metadata view of one registry's repositories, tags and manifests (``/acr/v1/``).

Reads properties (counts, times, changeable attributes, platforms, the tags of a manifest),
lists tags and manifests in name or time order, changes the changeable attributes, and
untags. Listings leave out what has ``listEnabled`` false; reading one item by name does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection

from berth import errors
from berth.content import locks
from berth.content.pull_cache import PullCache
from berth.errors import WireError
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.manifests import ManifestRecord, Reference
from berth.metadata.repositories import RepositoryRecord, TagRecord

T = TypeVar("T")

# The wire names of the changeable attributes and their columns.
ATTRIBUTE_NAMES: Mapping[str, str] = {
    "deleteEnabled": "delete_enabled",
    "writeEnabled": "write_enabled",
    "readEnabled": "read_enabled",
    "listEnabled": "list_enabled",
}


@dataclass(frozen=True)
class RepositoryProperties:
    record: RepositoryRecord
    manifest_count: int
    tag_count: int


@dataclass(frozen=True)
class ManifestProperties:
    record: ManifestRecord
    tags: list[str] = field(default_factory=list)
    children: list[Reference] = field(default_factory=list)  # of an index or manifest list


@dataclass(frozen=True)
class Untagged:
    tag: str
    digest: str


def _repository(conn: Connection, registry_id: str, name: str) -> RepositoryRecord:
    repo = repository_rows.get(conn, registry_id, name)
    if repo is None:
        raise WireError(errors.NAME_UNKNOWN, f"repository {name} is not found", detail={"name": name})
    return repo


def _tag(conn: Connection, repo: RepositoryRecord, name: str) -> TagRecord:
    tag = repository_rows.get_tag(conn, repo.id, name)
    if tag is None:
        raise WireError(
            errors.TAG_UNKNOWN,
            f"tag {name} is not found in repository {repo.name}",
            detail={"name": repo.name, "tag": name},
        )
    return tag


def _manifest(conn: Connection, repo: RepositoryRecord, digest: str) -> ManifestRecord:
    record = manifest_rows.get(conn, repo.id, digest)
    if record is None:
        raise WireError(
            errors.MANIFEST_UNKNOWN,
            f"manifest {digest} is not found in repository {repo.name}",
            detail={"name": repo.name, "digest": digest},
        )
    return record


def _with_details(
    conn: Connection, repo: RepositoryRecord, records: list[ManifestRecord]
) -> list[ManifestProperties]:
    tags = repository_rows.tag_names_by_digest(conn, repo.id, [r.digest for r in records])
    children = manifest_rows.child_references(conn, [r.id for r in records])
    return [ManifestProperties(r, tags.get(r.digest, []), children.get(r.id, [])) for r in records]


def _columns(changes: Mapping[str, bool]) -> dict[str, bool]:
    return {ATTRIBUTE_NAMES[name]: value for name, value in changes.items()}


class ArtifactService:
    def __init__(self, registry_id: str, db: Database, cache: PullCache) -> None:
        self.registry_id = registry_id
        self._cache = cache
        self._db = db

    # --- repositories ---------------------------------------------------------------------

    def _properties(self, conn: Connection, name: str) -> RepositoryProperties:
        repo = _repository(conn, self.registry_id, name)
        manifest_count, tag_count = repository_rows.counts(conn, repo.id)
        return RepositoryProperties(repo, manifest_count, tag_count)

    async def repository(self, name: str) -> RepositoryProperties:
        return await self._db.read(self._properties, name)

    async def update_repository(self, name: str, changes: Mapping[str, bool]) -> RepositoryProperties:
        def work(conn: Connection) -> RepositoryProperties:
            repo = _repository(conn, self.registry_id, name)
            if changes:
                repository_rows.set_attributes(conn, repo.id, _columns(changes))
            return self._properties(conn, name)

        return await self._changed(name, self._db.write(work))

    # --- tags -----------------------------------------------------------------------------

    async def tags(
        self,
        name: str,
        last: str | None,
        limit: int,
        order: str | None,
        digest: str | None = None,
    ) -> list[TagRecord]:
        def work(conn: Connection) -> list[TagRecord]:
            repo = _repository(conn, self.registry_id, name)
            return repository_rows.list_tags(
                conn, repo.id, last, limit, digest=digest, order_by_time=order, listed_only=True
            )

        return await self._db.read(work)

    async def tag(self, name: str, tag: str) -> TagRecord:
        def work(conn: Connection) -> TagRecord:
            return _tag(conn, _repository(conn, self.registry_id, name), tag)

        return await self._db.read(work)

    async def update_tag(self, name: str, tag: str, changes: Mapping[str, bool]) -> TagRecord:
        def work(conn: Connection) -> TagRecord:
            repo = _repository(conn, self.registry_id, name)
            _tag(conn, repo, tag)
            if changes:
                repository_rows.set_tag_attributes(conn, repo.id, tag, _columns(changes))
            return _tag(conn, repo, tag)

        return await self._changed(name, self._db.write(work))

    async def untag(self, name: str, tag: str) -> Untagged:
        """Remove a tag (its manifest stays), unless the tag or repository is delete-locked."""

        def work(conn: Connection) -> Untagged:
            repo = _repository(conn, self.registry_id, name)
            record = _tag(conn, repo, tag)
            locks.check_delete(repo, record.attributes, f"tag {tag}", f"{name}:{tag}")
            repository_rows.delete_tag(conn, repo.id, tag)
            repository_rows.touch(conn, repo.id)
            return Untagged(tag, record.digest)

        return await self._changed(name, self._db.write(work))

    # --- manifests ------------------------------------------------------------------------

    async def manifests(
        self, name: str, last: str | None, limit: int, order: str | None
    ) -> list[ManifestProperties]:
        def work(conn: Connection) -> list[ManifestProperties]:
            repo = _repository(conn, self.registry_id, name)
            records = manifest_rows.list_all(conn, repo.id, last, limit, order, listed_only=True)
            return _with_details(conn, repo, records)

        return await self._db.read(work)

    async def manifest(self, name: str, digest: str) -> ManifestProperties:
        def work(conn: Connection) -> ManifestProperties:
            repo = _repository(conn, self.registry_id, name)
            return _with_details(conn, repo, [_manifest(conn, repo, digest)])[0]

        return await self._db.read(work)

    async def update_manifest(
        self, name: str, digest: str, changes: Mapping[str, bool]
    ) -> ManifestProperties:
        def work(conn: Connection) -> ManifestProperties:
            repo = _repository(conn, self.registry_id, name)
            _manifest(conn, repo, digest)
            if changes:
                manifest_rows.set_attributes(conn, repo.id, digest, _columns(changes))
            return _with_details(conn, repo, [_manifest(conn, repo, digest)])[0]

        return await self._changed(name, self._db.write(work))

    async def _changed(self, name: str, write: Awaitable[T]) -> T:
        """Run a write to repository ``name``; cached pull lookups of it are dropped after."""
        result = await write
        self._cache.invalidate(self.registry_id, name)
        return result
