"""Manifests and tags of one registry: store, resolve, delete, list and find referrers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import Connection

from berth import errors
from berth.content import locks
from berth.content.manifest_format import ParsedManifest, parse, platform_value
from berth.content.pull_cache import PullCache
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata import collection, pulls
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.names import Digest, InvalidName, is_tag
from berth.storage import BlobStore

_MAX_CONFIG_TO_INSPECT = 1024 * 1024
_DOCKER_IMAGE_CONFIG = "application/vnd.docker.container.image.v1+json"  # no "config" in its name


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    content: bytes
    record: manifest_rows.ManifestRecord


@dataclass(frozen=True)
class PutResult:
    digest: str
    media_type: str
    artifact_type: str | None
    subject: str | None
    created: bool


def parse_reference(reference: str) -> tuple[bool, str]:
    """(is_tag, normalized reference); raises TAG_INVALID or DIGEST_INVALID."""
    if Digest.looks_like(reference):
        try:
            return False, str(Digest.parse(reference))
        except InvalidName as exc:
            raise WireError(errors.DIGEST_INVALID, str(exc), detail={"digest": reference}) from None
    if not is_tag(reference):
        raise WireError(errors.TAG_INVALID, f"invalid tag {reference!r}", detail={"tag": reference})
    return True, reference


def _blob_unknown(digest: str) -> WireError:
    return WireError(
        errors.MANIFEST_BLOB_UNKNOWN, f"blob unknown to registry: {digest}", detail={"digest": digest}
    )


def _refuse_missing(conn: Connection, repository_id: int, parsed: ParsedManifest) -> None:
    """MANIFEST_BLOB_UNKNOWN naming the first blob or child manifest the repository lacks."""
    missing = blob_rows.missing_links(conn, repository_id, parsed.required_blobs)
    if not missing:
        children = list(dict.fromkeys(child.digest for child in parsed.children))
        missing = manifest_rows.missing(conn, repository_id, children)
    if missing:
        raise _blob_unknown(missing[0])


class ManifestService:
    def __init__(self, registry_id: str, db: Database, store: BlobStore, cache: PullCache) -> None:
        self.registry_id = registry_id
        self._db = db
        self._store = store
        self._cache = cache

    async def repository(self, name: str) -> repository_rows.RepositoryRecord:
        repo = await self._db.read(repository_rows.get, self.registry_id, name)
        if repo is None:
            raise WireError(errors.NAME_UNKNOWN, detail={"name": name})
        return repo

    async def get(self, repository: str, reference: str) -> StoredManifest:
        try:
            by_tag, ref = parse_reference(reference)
        except WireError as exc:
            if exc.error is not errors.TAG_INVALID:
                raise
            # The distribution spec's only failure of a manifest GET/HEAD is 404: no manifest
            # is known by a name that cannot be a tag (the conformance suite checks this).
            raise WireError(
                errors.MANIFEST_UNKNOWN,
                f"manifest unknown: {reference!r} is not a tag or a digest",
                detail={"Tag": reference},
            ) from None

        found = await self._cache.read_through(
            self.registry_id,
            repository,
            ref,
            by_tag,
            lambda: self._db.read(pulls.lookup, self.registry_id, repository, ref, by_tag=by_tag),
        )
        repo, record, content = found.repository, found.manifest, found.content
        if repo is None:
            raise WireError(errors.NAME_UNKNOWN, detail={"name": repository})
        if record is None or content is None:
            message = f"manifest tagged by {ref!r} is not found" if by_tag else f"manifest {ref} is not found"
            raise WireError(errors.MANIFEST_UNKNOWN, message, detail={"Tag" if by_tag else "Digest": ref})
        locks.check_read(repo, record, found.tag)
        return StoredManifest(record.digest, record.media_type, content, record)

    async def put(self, repository: str, reference: str, body: bytes, content_type: str | None) -> PutResult:
        by_tag, ref = parse_reference(reference)
        parsed = parse(body, content_type)
        algorithm = "sha256" if by_tag else ref.split(":", 1)[0]
        digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
        if not by_tag and digest != ref:
            raise WireError(
                errors.DIGEST_INVALID,
                f"manifest digest {digest} does not match the reference {ref}",
                detail={"digest": ref},
            )
        # What the manifest references is checked before the write lock is taken, so a
        # manifest naming unknown content is refused without stalling the registry's writers;
        # the check is repeated (one query per kind) under the lock, where it decides.
        tag = ref if by_tag else None
        await self._db.read(self._check_before_writing, repository, tag, digest, parsed)
        platform = await self._platform(parsed)
        manifest = manifest_rows.ManifestInput(
            digest=digest,
            media_type=parsed.media_type,
            content=body,
            artifact_type=parsed.artifact_type,
            subject=parsed.subject,
            annotations=parsed.annotations or None,
            config_digest=parsed.config.digest if parsed.config else None,
            image_size=parsed.content_size,
            architecture=platform[0],
            os=platform[1],
            references=[
                *(manifest_rows.Reference(d, "blob") for d in parsed.required_blobs),
                *(
                    manifest_rows.Reference(c.digest, "manifest", c.platform_os, c.platform_architecture)
                    for c in parsed.children
                ),
            ],
        )

        def work(conn: Connection) -> bool:
            collection.lock_registry(conn, self.registry_id)  # against the GC's sweep
            repo = repository_rows.ensure(conn, self.registry_id, repository)
            locks.check_write(conn, repo, tag, digest)
            _refuse_missing(conn, repo.id, parsed)
            created = manifest_rows.put(conn, repo.id, manifest)
            if by_tag:
                repository_rows.put_tag(conn, repo.id, ref, digest)
            repository_rows.touch(conn, repo.id)
            return created

        created = await self._db.write(work)
        self._cache.invalidate(self.registry_id, repository)
        return PutResult(digest, parsed.media_type, parsed.artifact_type, parsed.subject, created)

    def _check_before_writing(
        self, conn: Connection, repository: str, tag: str | None, digest: str, parsed: ParsedManifest
    ) -> None:
        """The write's checks, read-only: locks, then what the manifest references."""
        repo = repository_rows.get(conn, self.registry_id, repository)
        if repo is None:
            first = next(iter(parsed.required_blobs), None) or next((c.digest for c in parsed.children), None)
            if first is not None:
                raise _blob_unknown(first)
            return
        locks.check_write(conn, repo, tag, digest)
        _refuse_missing(conn, repo.id, parsed)

    async def _platform(self, parsed: ParsedManifest) -> tuple[str | None, str | None]:
        """Architecture and OS from a small image config blob, for ACR's manifest attributes."""
        config = parsed.config
        if config is None or config.size > _MAX_CONFIG_TO_INSPECT:
            return None, None
        if "config" not in config.media_type and config.media_type != _DOCKER_IMAGE_CONFIG:
            return None, None

        def read() -> bytes:
            try:
                return b"".join(self._store.read(config.digest))
            except (FileNotFoundError, ValueError):
                return b""

        try:
            document = json.loads(await anyio.to_thread.run_sync(read) or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None, None
        if not isinstance(document, dict):
            return None, None
        return platform_value(document.get("architecture")), platform_value(document.get("os"))

    async def delete(self, repository: str, reference: str) -> list[str]:
        """Delete a tag, or a manifest and its tags; returns the digests/tags removed."""
        by_tag, ref = parse_reference(reference)

        def work(conn: Connection) -> list[str]:
            repo = repository_rows.get(conn, self.registry_id, repository)
            if repo is None:
                raise WireError(errors.NAME_UNKNOWN, detail={"name": repository})
            if by_tag:
                tag = repository_rows.get_tag(conn, repo.id, ref)
                if tag is None:
                    raise WireError(errors.MANIFEST_UNKNOWN, f"tag {ref!r} is not found", detail={"Tag": ref})
                locks.check_delete(repo, tag.attributes, f"tag {ref}", f"{repository}:{ref}")
                repository_rows.delete_tag(conn, repo.id, ref)
                return [ref]
            record = manifest_rows.get(conn, repo.id, ref)
            if record is None:
                raise WireError(
                    errors.MANIFEST_UNKNOWN, f"manifest {ref} is not found", detail={"Digest": ref}
                )
            locks.check_delete(repo, record.attributes, f"manifest {ref}", f"{repository}@{ref}")
            for tag in repository_rows.list_tags(conn, repo.id, digest=ref):
                image = f"{repository}:{tag.name}"
                locks.check_delete(repo, tag.attributes, f"tag {tag.name} (of manifest {ref})", image)
            return manifest_rows.remove(conn, repo.id, ref)

        removed = await self._db.write(work)
        self._cache.invalidate(self.registry_id, repository)
        return removed

    async def tags(
        self, repository: str, last: str | None, limit: int | None, *, listed_only: bool = False
    ) -> list[str]:
        # One read for the repository and its page: one trip to a database thread, not two. Not on
        # the hot-read threads (read_plain): large pages there would make token requests wait.
        def page(conn: Connection) -> list[repository_rows.TagRecord] | None:
            repo = repository_rows.get(conn, self.registry_id, repository)
            if repo is None:
                return None
            return repository_rows.list_tags(conn, repo.id, last, limit, listed_only=listed_only)

        records = await self._db.read(page)
        if records is None:
            raise WireError(errors.NAME_UNKNOWN, detail={"name": repository})
        return [record.name for record in records]

    async def referrers(
        self, repository: str, subject: Digest, artifact_type: str | None
    ) -> list[manifest_rows.ManifestRecord]:
        def listed(conn: Connection) -> list[manifest_rows.ManifestRecord]:
            repo = repository_rows.get(conn, self.registry_id, repository)
            if repo is None:
                return []
            return manifest_rows.referrers(conn, repo.id, str(subject), artifact_type)

        return await self._db.read(listed)  # the repository and its referrers in one trip
