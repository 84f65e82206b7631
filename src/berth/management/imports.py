"""Importing an image into a registry of this service, server-side (ARM's ``importImage``,
``az acr import``), from another of its registries or from any OCI registry
(:mod:`berth.management.import_sources`).

The source manifest (and, for an index, every child manifest) is copied with its blobs: a blob
the target registry already holds is linked, any other is streamed from the source through the
target's upload path (hashed and verified as a push is). Then the manifest is stored in each
target repository under each target tag, or untagged. Repository locks apply as for a pull from
the source and a push to the target.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from berth import errors
from berth.content.blobs import BlobService
from berth.content.manifest_format import parse
from berth.content.manifests import ManifestService
from berth.content.quota import StorageQuota
from berth.content.sessions import UploadSessions
from berth.errors import WireError
from berth.management.errors import ManagementError, conflict, invalid
from berth.management.import_sources import ImageSource, SourceManifest
from berth.metadata.registries import RegistryRecord
from berth.names import Digest
from berth.services import Services

_MAX_DEPTH = 4


@dataclass(frozen=True)
class ImageReference:
    repository: str
    reference: str  # a tag or a digest

    @classmethod
    def parse(cls, text: str, field: str) -> ImageReference:
        """``repo:tag``, ``repo@sha256:...`` or ``repo`` (tag ``latest``)."""
        if "@" in text:
            repository, _, reference = text.partition("@")
        else:
            head, _, tail = text.rpartition(":")
            repository, reference = (head, tail) if head and "/" not in tail else (text, "latest")
        if not repository or not reference:
            raise invalid(f"'{text}' is not an image reference (repository:tag or repository@digest).", field)
        return cls(repository, reference)


@dataclass(frozen=True)
class ImportRequest:
    source: ImageSource
    source_image: ImageReference
    target_tags: tuple[ImageReference, ...]
    untagged_repositories: tuple[str, ...]
    force: bool


class _Target:
    def __init__(self, services: Services, record: RegistryRecord) -> None:
        store = services.store_for(record.id)
        self.blobs = BlobService(record.id, services.db, store)
        quota = StorageQuota.of(record, services.settings.default_storage_quota)  # an import is a push
        self.uploads = UploadSessions(record.id, services.db, store, services.hashes, quota)
        self.manifests = ManifestService(record.id, services.db, store, services.pull_cache)


def _any_repository(name: str) -> bool:
    """An import's caller holds Contributor (or Owner) on the whole target registry: it may pull
    every repository there, so a blob any of them holds may be linked instead of copied."""
    return True


class ImageImporter:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self, target: RegistryRecord, request: ImportRequest) -> str:
        """Copy the image; returns the digest of the manifest imported."""
        source = request.source
        into = _Target(self.services, target)
        if not request.target_tags and not request.untagged_repositories:
            raise invalid("Name at least one target tag or untagged target repository.", "targetTags")
        try:
            manifest = await source.manifest(request.source_image.repository, request.source_image.reference)
            if not request.force:
                await self._refuse_overwrites(into, request.target_tags, manifest.digest)
            repositories = [t.repository for t in request.target_tags] + list(request.untagged_repositories)
            for repository in dict.fromkeys(repositories):
                await self._copy(source, into, request.source_image.repository, manifest, repository, 0)
            for tag in request.target_tags:
                await into.manifests.put(tag.repository, tag.reference, manifest.content, manifest.media_type)
        except WireError as exc:
            raise _as_management_error(exc) from None
        return manifest.digest

    async def _refuse_overwrites(self, into: _Target, tags: tuple[ImageReference, ...], digest: str) -> None:
        for tag in tags:
            try:
                existing = await into.manifests.get(tag.repository, tag.reference)
            except WireError:
                continue
            if existing.digest != digest:
                raise conflict(
                    "TagAlreadyExists",
                    f"The target tag '{tag.repository}:{tag.reference}' already exists; "
                    "use --force to overwrite it.",
                )

    async def _copy(
        self,
        source: ImageSource,
        into: _Target,
        source_repository: str,
        manifest: SourceManifest,
        repository: str,
        depth: int,
    ) -> None:
        """Copy ``manifest``'s blobs and children into ``repository``, then store it by digest."""
        if depth > _MAX_DEPTH:
            raise invalid("The source image nests indexes too deeply to import.", "source")
        parsed = parse(manifest.content, manifest.media_type)
        for child in parsed.children:
            stored = await source.manifest(source_repository, child.digest)
            await self._copy(source, into, source_repository, stored, repository, depth + 1)
        for digest in dict.fromkeys(parsed.required_blobs):
            await self._copy_blob(source, into, source_repository, Digest.parse(digest), repository)
        await into.manifests.put(repository, manifest.digest, manifest.content, manifest.media_type)

    async def _copy_blob(
        self, source: ImageSource, into: _Target, source_repository: str, digest: Digest, repository: str
    ) -> None:
        if await into.blobs.mount(repository, digest, None, _any_repository) is not None:
            return
        size, chunks = await source.blob(source_repository, digest)
        upload = await into.uploads.start(repository)
        try:
            await into.uploads.complete(upload, digest, chunks, size if size >= 0 else None)
        except BaseException:
            with contextlib.suppress(Exception):
                await into.uploads.cancel(upload)
            raise


def _as_management_error(exc: WireError) -> ManagementError:
    if errors.is_storage_quota_refusal(exc):
        return ManagementError("QuotaExceeded", f"Import failed: {exc.text}", 409)
    status = exc.http_status if exc.http_status in (404, 409) else 400
    code = "ResourceNotFound" if status == 404 else ("Conflict" if status == 409 else "InvalidParameter")
    return ManagementError(code, f"Import failed: {exc.text}", status)
