"""Manifest formats berth stores: parse, validate and describe them.

Supported: OCI image manifest and index, Docker schema 2 manifest and manifest list. Parsing
is pure (no storage access); :class:`ParsedManifest` lists what the manifest references so
the content layer can check that those blobs and manifests exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from berth import errors
from berth.errors import WireError
from berth.names import Digest, InvalidName

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
IMAGE_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_MEDIA_TYPES = (*IMAGE_MANIFESTS, *INDEXES)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_ARTIFACT_TYPE = 255  # RFC 6838: type and subtype of at most 127 characters each
MAX_PLATFORM_VALUE = 50
# Descriptors one manifest may carry (layers of an image, manifests of an index). Distribution
# and ACR bound only the body (4 MiB); docker images stop at 127 layers and real indexes at a
# few dozen platforms, so 1,024 leaves room for large artifacts while keeping the work of
# checking what a manifest references (one row per descriptor) small.
MAX_DESCRIPTORS = 1024
# Sizes are stored in signed 64-bit columns: a descriptor's size and their sum must fit.
MAX_SIZE = 2**63 - 1
_BOM = "\ufeff"
# Layers a registry is not expected to hold (Windows foreign layers, OCI non-distributable).
_FOREIGN_LAYER_MARKERS = ("foreign", "nondistributable")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform_os: str | None = None
    platform_architecture: str | None = None
    foreign: bool = False


@dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...] = ()
    children: tuple[Descriptor, ...] = ()
    subject: str | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES

    @property
    def required_blobs(self) -> list[str]:
        blobs = [self.config.digest] if self.config else []
        blobs.extend(layer.digest for layer in self.layers if not layer.foreign)
        return list(dict.fromkeys(blobs))

    @property
    def content_size(self) -> int:
        total = self.config.size if self.config else 0
        return total + sum(layer.size for layer in self.layers)


def _invalid(message: str) -> WireError:
    return WireError(errors.MANIFEST_INVALID, message)


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be a descriptor object")
    media_type = value.get("mediaType")
    digest = value.get("digest")
    size = value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where}.mediaType is missing")
    if not isinstance(digest, str):
        raise _invalid(f"{where}.digest is missing")
    try:
        Digest.parse(digest)
    except InvalidName as exc:
        raise _invalid(f"{where}.digest: {exc}") from None
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise _invalid(f"{where}.size must be an integer from 0 to {MAX_SIZE}")
    raw_platform = value.get("platform")
    platform: dict[str, Any] = raw_platform if isinstance(raw_platform, dict) else {}
    foreign = any(marker in media_type for marker in _FOREIGN_LAYER_MARKERS) or bool(value.get("urls"))
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        platform_os=platform_value(platform.get("os")),
        platform_architecture=platform_value(platform.get("architecture")),
        foreign=foreign,
    )


def platform_value(value: Any) -> str | None:
    """An os or architecture worth recording: a short printable string, else None.

    These are kept only as listing metadata; the manifest's bytes are stored as pushed.
    """
    if isinstance(value, str) and 0 < len(value) <= MAX_PLATFORM_VALUE and value.isprintable():
        return value
    return None


def _check_artifact_type(value: str) -> str:
    """An artifact type is stored and compared as text: printable, at most 255 characters."""
    if not value or len(value) > MAX_ARTIFACT_TYPE or not value.isprintable():
        raise _invalid(
            f"artifact type {value[:80]!r} is not a media type "
            f"(1 to {MAX_ARTIFACT_TYPE} printable characters)"
        )
    return value


def _effective_media_type(content_type: str | None, document: dict[str, Any]) -> str:
    declared = document.get("mediaType")
    header = (content_type or "").split(";")[0].strip().lower()
    if header in ("", "application/json", "application/octet-stream"):
        header = ""
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if header and declared and declared != header:
        raise _invalid(f"mediaType {declared!r} in the manifest does not match Content-Type {header!r}")
    media_type = header or declared
    if not media_type:
        # OCI manifests may omit mediaType; infer it from the shape.
        media_type = OCI_INDEX if "manifests" in document else OCI_MANIFEST
    if media_type in DOCKER_SCHEMA1:
        raise _invalid("Docker schema 1 manifests are not supported; push with a current client")
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise _invalid(f"unsupported manifest media type {media_type!r}")
    return media_type


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, read as UTF-8 only.

    ``json.loads`` on bytes also accepts UTF-16, UTF-32 and a UTF-8 byte order mark; Go
    clients (docker, containerd, ORAS) cannot read those, so they are refused here.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("manifest must be UTF-8 encoded JSON") from None
    if text.startswith(_BOM):
        raise _invalid("manifest must be UTF-8 encoded JSON without a byte order mark")
    if "\x00" in text:  # no JSON text holds a NUL; UTF-16 and UTF-32 of ASCII do
        raise _invalid("manifest must be UTF-8 encoded JSON (it holds NUL bytes, as UTF-16 and UTF-32 do)")
    try:
        document = json.loads(text)
    # ValueError covers JSONDecodeError and integers too long to convert.
    except (ValueError, RecursionError) as exc:
        raise _invalid(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise _invalid("manifest must be a JSON object")
    return document


def _check_count(count: int, field_name: str) -> None:
    if count > MAX_DESCRIPTORS:
        raise _invalid(
            f"{field_name} lists {count} descriptors; a manifest may carry at most {MAX_DESCRIPTORS}"
        )


def parse(body: bytes, content_type: str | None) -> ParsedManifest:
    """Validate a manifest body; raises MANIFEST_INVALID with the reason when it is not valid."""
    if len(body) > MAX_MANIFEST_BYTES:
        raise WireError(errors.SIZE_INVALID, "manifest exceeds the 4 MiB limit", status=413)
    document = _json_object(body)
    if document.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    media_type = _effective_media_type(content_type, document)
    subject = None
    if document.get("subject") is not None:
        subject = _descriptor(document["subject"], "subject").digest
    artifact_type = document.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid("artifactType must be a string")
    if artifact_type == "":
        artifact_type = None  # the spec: an empty artifactType is as good as a missing one
    if artifact_type is not None:
        _check_artifact_type(artifact_type)
    raw_annotations = document.get("annotations") or {}
    if not isinstance(raw_annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw_annotations.items()
    ):
        raise _invalid("annotations must map strings to strings")

    if media_type in INDEXES:
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise _invalid("manifests must be a list")
        _check_count(len(entries), "manifests")
        children = tuple(_descriptor(entry, f"manifests[{i}]") for i, entry in enumerate(entries))
        return ParsedManifest(
            media_type=media_type,
            config=None,
            children=children,
            subject=subject,
            artifact_type=artifact_type,
            annotations=raw_annotations,
        )

    config = _descriptor(document.get("config"), "config")
    raw_layers = document.get("layers", [])
    if not isinstance(raw_layers, list):
        raise _invalid("layers must be a list")
    _check_count(len(raw_layers), "layers")
    layers = tuple(_descriptor(layer, f"layers[{i}]") for i, layer in enumerate(raw_layers))
    if config.size + sum(layer.size for layer in layers) > MAX_SIZE:
        raise _invalid(f"the sizes of config and layers add up to more than {MAX_SIZE}")
    if artifact_type is None:
        # The referrers API reports config.mediaType for image manifests without artifactType.
        artifact_type = _check_artifact_type(config.media_type)
    return ParsedManifest(
        media_type=media_type,
        config=config,
        layers=layers,
        subject=subject,
        artifact_type=artifact_type,
        annotations=raw_annotations,
    )


def accepts(accept_header: str | None, media_type: str) -> bool:
    """Whether a client's ``Accept`` header admits ``media_type`` (absent header admits all)."""
    if not accept_header:
        return True
    for item in accept_header.split(","):
        candidate = item.split(";")[0].strip().lower()
        if candidate in ("*/*", "application/*", media_type, ""):
            return True
    return False
