"""Small images and blobs with random content, so every test pushes digests of its own.

- :func:`rootfs_tarball`: a root filesystem tarball for ``docker import`` / ``podman import``.
- :func:`write_oci_layout`: an OCI image layout (``oci:DIR:TAG`` for skopeo) built by hand:
  gzipped layers, an image config and an OCI image manifest.
- :func:`random_blob` and :func:`sha256_digest` for pushing raw blobs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def random_blob(size: int) -> bytes:
    return os.urandom(size)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar holding ``files`` (and their parent directories), owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        directories = sorted({str(Path(name).parent) for name in files} - {"."})
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            archive.addfile(info)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o644, 1_700_000_000
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _random_files(size: int) -> dict[str, bytes]:
    marker = uuid.uuid4().hex
    return {
        "etc/berth-test": f"{marker}\n".encode(),
        f"data/{marker}.bin": random_blob(size),
    }


def rootfs_tarball(path: Path, size: int = 64 * 1024) -> Path:
    """Write a tarball for ``docker import`` with ``size`` random bytes in it; returns ``path``."""
    path.write_bytes(_tar(_random_files(size)))
    return path


@dataclass(frozen=True)
class OciImage:
    """What :func:`write_oci_layout` wrote, for comparing with what a registry returns."""

    layout: Path
    tag: str
    manifest: bytes
    config: bytes
    layers: tuple[bytes, ...]

    @property
    def reference(self) -> str:
        """The skopeo/containers-image reference, ``oci:DIR:TAG``."""
        return f"oci:{self.layout}:{self.tag}"

    @property
    def manifest_digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config)

    @property
    def layer_digests(self) -> tuple[str, ...]:
        return tuple(sha256_digest(layer) for layer in self.layers)

    def blobs(self) -> dict[str, bytes]:
        """Every blob the manifest references, by digest."""
        return {sha256_digest(blob): blob for blob in (self.config, *self.layers)}


def _write_blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = sha256_digest(data)
    path = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_oci_layout(layout: Path, tag: str = "latest", layers: int = 2, size: int = 32 * 1024) -> OciImage:
    """Build a ``linux/amd64`` image with ``layers`` random gzipped layers in an OCI layout."""
    tars = [_tar(_random_files(size)) for _ in range(layers)]
    compressed = tuple(gzip.compress(tar, mtime=0) for tar in tars)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar) for tar in tars]},
        },
        separators=(",", ":"),
    ).encode()
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, **_write_blob(layout, config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP, **_write_blob(layout, layer)} for layer in compressed],
        },
        separators=(",", ":"),
    ).encode()
    descriptor = {
        "mediaType": OCI_MANIFEST,
        **_write_blob(layout, manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
    (layout / "index.json").write_text(json.dumps(index))
    return OciImage(layout=layout, tag=tag, manifest=manifest, config=config, layers=compressed)
