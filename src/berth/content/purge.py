"""Purging old tags and untagged manifests, as ``acr purge`` does (the domain of ``berth acr purge``).

A filter ``repo:regex`` names repositories (the part before the colon, a regular expression
matching the whole name) and their tags (the regular expression after it, matching the whole
tag). Tags matching a filter and last updated before the cutoff are deleted, except the ``keep``
most recently updated ones of each repository; with ``untagged``, the manifests of those
repositories that have no tag left, are not the child of another manifest there, and were last
updated before the cutoff are deleted too. Locked content (``deleteEnabled=false`` on the
repository, tag or manifest) is skipped and reported, never deleted. The bytes are freed by the
next garbage collection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from berth.content import locks
from berth.errors import WireError
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.schema import manifest_references, manifests, repositories


@dataclass(frozen=True)
class PurgeFilter:
    repository: re.Pattern[str]
    tag: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> PurgeFilter:
        repository, sep, tag = text.partition(":")
        if not sep or not repository or not tag:
            raise ValueError(f"a filter is '<repository regex>:<tag regex>', not {text!r}")
        return cls(re.compile(repository), re.compile(tag))


@dataclass
class PurgeResult:
    tags: list[str] = field(default_factory=list)  # "repo:tag" deleted (or to delete)
    manifests: list[str] = field(default_factory=list)  # "repo@digest"
    locked: list[str] = field(default_factory=list)  # skipped: deleteEnabled=false


def purge(
    conn: Connection,
    registry_id: str,
    filters: list[PurgeFilter],
    cutoff: float,
    *,
    untagged: bool = False,
    keep: int = 0,
    dry_run: bool = False,
) -> PurgeResult:
    result = PurgeResult()
    names = conn.execute(
        select(repositories.c.name)
        .where(repositories.c.registry_id == registry_id)
        .order_by(repositories.c.name)
    ).scalars()
    for name in list(names):
        matching = [f for f in filters if f.repository.fullmatch(name)]
        repo = repository_rows.get(conn, registry_id, name)
        if not matching or repo is None:
            continue
        tags = repository_rows.list_tags(conn, repo.id, order_by_time="timedesc")
        chosen = [t for t in tags if any(f.tag.fullmatch(t.name) for f in matching)]
        for tag in chosen[keep:]:
            if tag.updated_at >= cutoff:
                continue
            try:
                locks.check_delete(repo, tag.attributes, f"tag {tag.name}", f"{name}:{tag.name}")
            except WireError:
                result.locked.append(f"{name}:{tag.name}")
                continue
            if not dry_run:
                repository_rows.delete_tag(conn, repo.id, tag.name)
            result.tags.append(f"{name}:{tag.name}")
        if untagged:
            _purge_untagged(conn, repo, cutoff, dry_run, result)
    return result


def _purge_untagged(
    conn: Connection,
    repo: repository_rows.RepositoryRecord,
    cutoff: float,
    dry_run: bool,
    result: PurgeResult,
) -> None:
    deleted_tags = {entry.partition(":")[2] for entry in result.tags if entry.startswith(f"{repo.name}:")}
    tagged = {
        t.digest
        for t in repository_rows.list_tags(conn, repo.id)
        if not dry_run or t.name not in deleted_tags
    }
    children = set(
        conn.execute(
            select(manifest_references.c.digest)
            .join(manifests, manifests.c.id == manifest_references.c.manifest_id)
            .where(manifests.c.repository_id == repo.id, manifest_references.c.kind == "manifest")
        ).scalars()
    )
    for digest in manifest_rows.all_digests(conn, repo.id):
        if digest in tagged or digest in children:
            continue
        record = manifest_rows.get(conn, repo.id, digest)
        if record is None or record.updated_at >= cutoff:
            continue
        try:
            locks.check_delete(repo, record.attributes, f"manifest {digest}", f"{repo.name}@{digest}")
        except WireError:
            result.locked.append(f"{repo.name}@{digest}")
            continue
        if not dry_run:
            manifest_rows.remove(conn, repo.id, digest)
        result.manifests.append(f"{repo.name}@{digest}")
