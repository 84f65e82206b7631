"""Repositories of one registry as a whole: the catalog, properties, attributes, deletion."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from berth import errors
from berth.content import locks
from berth.content.pull_cache import PullCache
from berth.errors import WireError
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database


@dataclass(frozen=True)
class DeletedRepository:
    manifests: list[str]
    tags: list[str]


class RepositoryService:
    def __init__(self, registry_id: str, db: Database, cache: PullCache) -> None:
        self.registry_id = registry_id
        self._db = db
        self._cache = cache

    async def catalog(self, last: str | None, limit: int | None, *, listed_only: bool = False) -> list[str]:
        return await self._db.read(
            repository_rows.list_names, self.registry_id, last, limit, listed_only=listed_only
        )

    async def get(self, name: str) -> repository_rows.RepositoryRecord:
        repo = await self._db.read(repository_rows.get, self.registry_id, name)
        if repo is None:
            raise WireError(errors.NAME_UNKNOWN, detail={"name": name})
        return repo

    async def delete(self, name: str) -> DeletedRepository:
        def work(conn: Connection) -> DeletedRepository:
            repo = repository_rows.get(conn, self.registry_id, name)
            if repo is None:
                raise WireError(errors.NAME_UNKNOWN, detail={"name": name})
            locks.check_delete(repo, repo.attributes, f"repository {name}")
            records = repository_rows.list_tags(conn, repo.id)
            for tag in records:  # a locked tag or manifest keeps its repository
                locks.check_delete(repo, tag.attributes, f"tag {tag.name}", f"{name}:{tag.name}")
            for manifest in manifest_rows.list_all(conn, repo.id):
                locks.check_delete(
                    repo, manifest.attributes, f"manifest {manifest.digest}", f"{name}@{manifest.digest}"
                )
            tags = [t.name for t in records]
            digests = manifest_rows.all_digests(conn, repo.id)
            repository_rows.remove(conn, repo.id)
            return DeletedRepository(manifests=digests, tags=tags)

        deleted = await self._db.write(work)
        self._cache.invalidate(self.registry_id, name)
        return deleted
