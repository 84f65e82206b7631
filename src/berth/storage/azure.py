"""Azure Blob Storage driver (ACR's own backend), with the ``azure-storage-blob`` SDK.

Layout in the container, under the configured prefix::

    <prefix>registries/<registry id>/blobs/<algorithm>/<hex>         a block blob per blob
    <prefix>registries/<registry id>/uploads/<upload id>/<part>      a block blob per part

A part is written by the one request that sends its bytes: each write stages blocks on the
part's blob (``Put Block``), and closing the part commits its block list, so any replica can
read it, list it and continue the session. Commit, called only once berth verified the
digest, stages the named parts as blocks of the digest's blob, server-side from the parts'
blobs (``Put Block From URL``, with a short-lived read SAS when the driver holds the account
key) or streamed through berth otherwise, then commits that block list (``Put Block List``):
one step, so a reader sees the old blob or the new one, never a mix. Block ids are random
per commit; two commits racing on one digest can make one of them fail with
``InvalidBlockList`` (the other's commit discards its uncommitted blocks), and it is retried.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, BlobSasPermissions, ContainerClient, generate_blob_sas

from berth.storage.filesystem import CHUNK_SIZE, _safe_component

BLOCK_SIZE = 4 * 1024 * 1024
COPY_BLOCK = 100 * 1024 * 1024  # Put Block From URL's limit per block
COMMIT_ATTEMPTS = 4
COPY_SAS_SECONDS = 15 * 60  # the SAS a commit's Put Block From URL reads the parts with


def _block_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes).decode()


class _AzurePartWriter:
    """Stages a part's bytes as blocks of its blob; close commits the block list."""

    def __init__(self, blob: BlobClient) -> None:
        self._blob = blob
        self._blocks: list[BlobBlock] = []
        self._pending = bytearray()
        self._closed = False

    def _stage(self, data: bytes | bytearray) -> None:
        block = _block_id()
        self._blob.stage_block(block, bytes(data), length=len(data))
        self._blocks.append(BlobBlock(block_id=block))

    def write(self, data: bytes | memoryview) -> None:
        self._pending += data
        while len(self._pending) >= BLOCK_SIZE:
            self._stage(self._pending[:BLOCK_SIZE])
            del self._pending[:BLOCK_SIZE]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pending:
            self._stage(self._pending)
            self._pending.clear()
        try:  # If-None-Match: * keeps a part from ever replacing another writer's
            self._blob.commit_block_list(self._blocks, if_none_match="*")
        except ResourceExistsError as error:
            raise FileExistsError(self._blob.blob_name) from error


class AzureBlobStore:
    def __init__(self, container: ContainerClient, root: str, account_key: str | None) -> None:
        self._container = container
        self._account_key = account_key
        self._blobs = root + "blobs/"
        self._uploads = root + "uploads/"

    def _blob_name(self, digest: str) -> str:
        algorithm, _, encoded = digest.partition(":")
        return f"{self._blobs}{_safe_component(algorithm)}/{_safe_component(encoded)}"

    def _part_name(self, upload_id: str, part: str) -> str:
        return f"{self._uploads}{_safe_component(upload_id)}/{_safe_component(part)}"

    def _size(self, name: str) -> int | None:
        try:
            return int(self._container.get_blob_client(name).get_blob_properties().size)
        except ResourceNotFoundError:
            return None

    def _download(self, name: str, offset: int, length: int | None) -> Iterator[bytes]:
        blob = self._container.get_blob_client(name)
        try:
            if length == 0:
                blob.get_blob_properties()
                return iter(())
            stream = blob.download_blob(offset=offset, length=length, max_concurrency=1)
        except ResourceNotFoundError as error:
            raise FileNotFoundError(name) from error
        except HttpResponseError as error:
            if error.status_code != 416:
                raise
            if self._size(name) is None:
                raise FileNotFoundError(name) from error
            return iter(())  # the range starts at or past the end

        def chunks() -> Iterator[bytes]:
            for chunk in stream.chunks():  # the SDK's chunks may be large: yield bounded ones
                for start in range(0, len(chunk), CHUNK_SIZE):
                    yield chunk[start : start + CHUNK_SIZE]

        return chunks()

    def stat(self, digest: str) -> int | None:
        return self._size(self._blob_name(digest))

    def read(self, digest: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        return self._download(self._blob_name(digest), offset, length)

    def local_path(self, digest: str) -> Path | None:
        self._blob_name(digest)
        return None

    def redirect_url(self, digest: str, expires_in: int) -> str | None:
        """A read-only service SAS URL of the blob; None without the account key to sign it."""
        return self._read_url(self._container.get_blob_client(self._blob_name(digest)), expires_in)

    def delete(self, digest: str) -> bool:
        try:
            self._container.delete_blob(self._blob_name(digest))
        except ResourceNotFoundError:
            return False
        return True

    def part_writer(
        self, upload_id: str, part: str, whole: bool = False, start: int | None = None
    ) -> _AzurePartWriter:
        name = self._part_name(upload_id, part)
        if self._size(name) is not None:
            raise FileExistsError(name)
        return _AzurePartWriter(self._container.get_blob_client(name))

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        prefix = f"{self._uploads}{_safe_component(upload_id)}/"
        return {
            b.name[len(prefix) :]: int(b.size) for b in self._container.list_blobs(name_starts_with=prefix)
        }

    def read_parts(self, upload_id: str, parts: Sequence[str]) -> Iterator[bytes]:
        names = [self._part_name(upload_id, part) for part in parts]
        for name in names:  # a missing part raises at call time
            if self._size(name) is None:
                raise FileNotFoundError(name)

        def chunks() -> Iterator[bytes]:
            for name in names:
                yield from self._download(name, 0, None)

        return chunks()

    def delete_part(self, upload_id: str, part: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._container.delete_blob(self._part_name(upload_id, part))

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        target = self._container.get_blob_client(self._blob_name(digest))
        names = [self._part_name(upload_id, part) for part in parts]
        sizes: list[int] = []
        for name in names:
            size = self._size(name)
            if size is None:
                raise FileNotFoundError(name)
            sizes.append(size)
        for attempt in range(COMMIT_ATTEMPTS):
            blocks = self._stage_parts(target, names, sizes)
            try:
                target.commit_block_list(blocks)
                return
            except HttpResponseError as error:
                if getattr(error, "error_code", None) != "InvalidBlockList" or attempt == COMMIT_ATTEMPTS - 1:
                    raise

    def _stage_parts(self, target: BlobClient, names: Sequence[str], sizes: Sequence[int]) -> list[BlobBlock]:
        blocks: list[BlobBlock] = []
        for name, size in zip(names, sizes, strict=True):
            source = self._container.get_blob_client(name)
            source_url = self._read_url(source, COPY_SAS_SECONDS)
            for start in range(0, size, COPY_BLOCK):
                block = _block_id()
                length = min(COPY_BLOCK, size - start)
                if source_url is not None:
                    target.stage_block_from_url(block, source_url, source_offset=start, source_length=length)
                    blocks.append(BlobBlock(block_id=block))
                    continue
                for chunk_start in range(start, start + length, BLOCK_SIZE):
                    chunk = source.download_blob(
                        offset=chunk_start, length=min(BLOCK_SIZE, start + length - chunk_start)
                    )
                    block = _block_id()
                    target.stage_block(block, chunk.readall())
                    blocks.append(BlobBlock(block_id=block))
        return blocks

    def _read_url(self, blob: BlobClient, expires_in: int) -> str | None:
        """A read-only SAS URL valid for ``expires_in`` seconds; None without the account key."""
        if self._account_key is None:
            return None
        sas = generate_blob_sas(
            account_name=blob.account_name or "",
            container_name=blob.container_name,
            blob_name=blob.blob_name,
            account_key=self._account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(seconds=expires_in),
        )
        return f"{blob.url}?{sas}"

    def delete_upload(self, upload_id: str) -> None:
        _delete_prefix(self._container, f"{self._uploads}{_safe_component(upload_id)}/")

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        latest: dict[str, float] = {}
        for blob in self._container.list_blobs(name_starts_with=self._uploads):
            upload = blob.name[len(self._uploads) :].split("/", 1)[0]
            changed = blob.last_modified.timestamp()
            latest[upload] = max(changed, latest.get(upload, changed))
        return iter(sorted(latest.items()))


def _delete_prefix(container: ContainerClient, prefix: str) -> None:
    for blob in container.list_blobs(name_starts_with=prefix):
        with contextlib.suppress(ResourceNotFoundError):
            container.delete_blob(blob.name)


class AzureDriver:
    """Stores each registry under ``<prefix>registries/<registry id>/`` of one container.

    ``account_key`` (when the container client was built from one) lets commits copy parts
    server-side through a short-lived SAS; without it they are streamed through berth.
    """

    def __init__(self, container: ContainerClient, prefix: str = "", account_key: str | None = None) -> None:
        self._container = container
        self._account_key = account_key
        self._root = (prefix.strip("/") + "/" if prefix.strip("/") else "") + "registries/"

    def registry(self, registry_id: str) -> AzureBlobStore:
        return AzureBlobStore(
            self._container, f"{self._root}{_safe_component(registry_id)}/", self._account_key
        )

    def registry_ids(self) -> Iterator[str]:
        found = [
            item.name[len(self._root) :].rstrip("/")
            for item in self._container.walk_blobs(name_starts_with=self._root, delimiter="/")
        ]
        return iter(sorted(found))

    def delete_registry(self, registry_id: str) -> None:
        _delete_prefix(self._container, f"{self._root}{_safe_component(registry_id)}/")
