"""S3-compatible storage driver (AWS S3, MinIO, Ceph RGW), speaking only the plain S3 API.

Layout under the bucket and the configured prefix::

    <prefix>registries/<registry id>/blobs/<algorithm>/<hex>
    <prefix>registries/<registry id>/uploads/<upload id>/<part>

Each part of an upload session is an object of its own, written by the one request that
sends its bytes (spooled to a local temporary file, then put in one ``PutObject`` or a
managed multipart upload for large parts). S3 multipart parts must be at least 5 MiB except
the last, and berth's parts may be a few bytes, so a session is not one S3 multipart upload.
Commit builds the blob object only after berth verified the digest:

- one part: a server-side ``CopyObject`` (no bytes through berth), up to 5 GiB;
- several parts, each but the last at least 5 MiB: a multipart upload whose parts are
  server-side ``UploadPartCopy`` of the session's objects;
- otherwise (small chunks): the parts are streamed through berth into a new object.

A ``PutObject``, ``CopyObject`` or ``CompleteMultipartUpload`` makes the object visible in one
step, so readers see the old blob or the new one, never a mix. The parts stay until
:meth:`S3BlobStore.delete_upload`.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError

from berth.storage.filesystem import CHUNK_SIZE, _safe_component

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIN_MULTIPART = 5 * 1024 * 1024
MAX_COPY = 5 * 1024 * 1024 * 1024
COPY_PART = 512 * 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


def client_config() -> Config:
    """The botocore settings berth's S3 client needs.

    Checksums only ``when_required``: botocore's default since 1.36 adds CRC checksums to every
    upload and validates them on every download, which S3-compatible servers implement
    unevenly (an object composed by a multipart upload or copied from one carries a composite
    checksum that a whole-object read then fails to validate). berth verifies every blob's
    digest itself, so these checksums add nothing.

    Signature version 4 also for presigned URLs (botocore presigns S3 URLs with the legacy
    version 2 otherwise, which AWS regions opened since 2014 refuse); its ``X-Amz-Expires``
    bounds the URL's lifetime.
    """
    return Config(
        signature_version="s3v4",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=64,
    )


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING


class _S3PartWriter:
    """Spools one part locally and puts it as one object on close (never before)."""

    def __init__(self, client: S3Client, bucket: str, key: str) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self._closed = False

    def write(self, data: bytes | memoryview) -> None:
        self._spool.write(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._spool.seek(0)
            self._client.upload_fileobj(self._spool, self._bucket, self._key)
        finally:
            self._spool.close()


class _ChunkStream(io.RawIOBase):
    """A readable file over an iterator of chunks (to stream parts into a new object)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str, root: str) -> None:
        self._client, self._bucket = client, bucket
        self._blobs = root + "blobs/"
        self._uploads = root + "uploads/"

    def _blob_key(self, digest: str) -> str:
        algorithm, _, encoded = digest.partition(":")
        return f"{self._blobs}{_safe_component(algorithm)}/{_safe_component(encoded)}"

    def _part_key(self, upload_id: str, part: str) -> str:
        return f"{self._uploads}{_safe_component(upload_id)}/{_safe_component(part)}"

    def _head(self, key: str) -> int | None:
        try:
            return int(self._client.head_object(Bucket=self._bucket, Key=key)["ContentLength"])
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def _get(self, key: str, offset: int, length: int | None) -> Iterator[bytes]:
        if length == 0:
            if self._head(key) is None:
                raise FileNotFoundError(key)
            return iter(())
        byte_range = f"bytes={offset}-" if length is None else f"bytes={offset}-{offset + length - 1}"
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=byte_range)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from error
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                if self._head(key) is None:
                    raise FileNotFoundError(key) from error
                return iter(())  # the range starts at or past the end
            raise
        body = response["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_SIZE)
            finally:
                body.close()

        return chunks()

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            yield from page.get("Contents", [])  # type: ignore[misc]

    def stat(self, digest: str) -> int | None:
        return self._head(self._blob_key(digest))

    def read(self, digest: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        return self._get(self._blob_key(digest), offset, length)

    def local_path(self, digest: str) -> Path | None:
        self._blob_key(digest)
        return None

    def redirect_url(self, digest: str, expires_in: int) -> str | None:
        """A presigned ``GetObject`` URL (signed locally with the client's credentials)."""
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": self._blob_key(digest)}, ExpiresIn=expires_in
        )
        return url

    def delete(self, digest: str) -> bool:
        key = self._blob_key(digest)
        if self._head(key) is None:
            return False
        self._client.delete_object(Bucket=self._bucket, Key=key)
        return True

    def part_writer(
        self, upload_id: str, part: str, whole: bool = False, start: int | None = None
    ) -> _S3PartWriter:
        key = self._part_key(upload_id, part)
        if self._head(key) is not None:
            raise FileExistsError(key)
        return _S3PartWriter(self._client, self._bucket, key)

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        prefix = f"{self._uploads}{_safe_component(upload_id)}/"
        return {item["Key"][len(prefix) :]: int(item["Size"]) for item in self._list(prefix)}

    def read_parts(self, upload_id: str, parts: Sequence[str]) -> Iterator[bytes]:
        keys = [self._part_key(upload_id, part) for part in parts]
        for key in keys:  # a missing part raises at call time
            if self._head(key) is None:
                raise FileNotFoundError(key)

        def chunks() -> Iterator[bytes]:
            for key in keys:
                yield from self._get(key, 0, None)

        return chunks()

    def delete_part(self, upload_id: str, part: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._part_key(upload_id, part))

    def commit_upload(self, upload_id: str, parts: Sequence[str], digest: str) -> None:
        target = self._blob_key(digest)
        keys = [self._part_key(upload_id, part) for part in parts]
        sizes: list[int] = []
        for key in keys:
            size = self._head(key)
            if size is None:
                raise FileNotFoundError(key)
            sizes.append(size)
        if not keys:
            self._client.put_object(Bucket=self._bucket, Key=target, Body=b"")
        elif len(keys) == 1 and sizes[0] <= MAX_COPY:
            source = {"Bucket": self._bucket, "Key": keys[0]}
            self._client.copy_object(Bucket=self._bucket, Key=target, CopySource=source)  # type: ignore[arg-type]
        elif all(size >= MIN_MULTIPART for size in sizes[:-1]):
            self._copy_parts(keys, sizes, target)
        else:
            stream = io.BufferedReader(_ChunkStream(self.read_parts(upload_id, parts)), CHUNK_SIZE)
            self._client.upload_fileobj(stream, self._bucket, target)

    def _copy_parts(self, keys: Sequence[str], sizes: Sequence[int], target: str) -> None:
        """A multipart upload of server-side copies: no byte passes through berth."""
        upload = self._client.create_multipart_upload(Bucket=self._bucket, Key=target)["UploadId"]
        done: list[dict[str, Any]] = []
        try:
            for key, size in zip(keys, sizes, strict=True):
                for start in range(0, max(size, 1), COPY_PART):
                    end = min(size, start + COPY_PART) - 1
                    number = len(done) + 1
                    copied = self._client.upload_part_copy(
                        Bucket=self._bucket,
                        Key=target,
                        UploadId=upload,
                        PartNumber=number,
                        CopySource={"Bucket": self._bucket, "Key": key},
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                    done.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=target,
                UploadId=upload,
                MultipartUpload={"Parts": done},  # type: ignore[typeddict-item]
            )
        except BaseException:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=target, UploadId=upload)
            raise

    def delete_upload(self, upload_id: str) -> None:
        _delete_prefix(self._client, self._bucket, f"{self._uploads}{_safe_component(upload_id)}/")

    def upload_ids(self) -> Iterator[tuple[str, float]]:
        latest: dict[str, float] = {}
        for item in self._list(self._uploads):
            upload = item["Key"][len(self._uploads) :].split("/", 1)[0]
            changed = item["LastModified"].timestamp()
            latest[upload] = max(changed, latest.get(upload, changed))
        return iter(sorted(latest.items()))


def _delete_prefix(client: S3Client, bucket: str, prefix: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})  # type: ignore[typeddict-item]


class S3Driver:
    """Stores each registry under ``<prefix>registries/<registry id>/`` of one bucket."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self._client, self._bucket = client, bucket
        self._root = (prefix.strip("/") + "/" if prefix.strip("/") else "") + "registries/"

    def registry(self, registry_id: str) -> S3BlobStore:
        return S3BlobStore(self._client, self._bucket, f"{self._root}{_safe_component(registry_id)}/")

    def registry_ids(self) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self._root, Delimiter="/"):
            found.extend(p["Prefix"][len(self._root) :].rstrip("/") for p in page.get("CommonPrefixes", []))
        return iter(sorted(found))

    def delete_registry(self, registry_id: str) -> None:
        _delete_prefix(self._client, self._bucket, f"{self._root}{_safe_component(registry_id)}/")
