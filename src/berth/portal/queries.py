"""Reads the portal needs that the registry's own listings do not offer: repositories found by a
part of their name (a page of a catalog of thousands), and a manifest's referrers as a tree."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, exists, func, select

from berth.metadata import manifests as manifest_rows
from berth.metadata.manifests import ManifestRecord
from berth.metadata.schema import manifests, repositories

MAX_REFERRER_DEPTH = 4


def search_repositories(
    conn: Connection, registry_id: str, text: str, after: str | None, limit: int
) -> list[str]:
    """Names (with at least one manifest) containing ``text``, sorted, after ``after``."""
    has_manifest = exists().where(manifests.c.repository_id == repositories.c.id)
    query = select(repositories.c.name).where(repositories.c.registry_id == registry_id, has_manifest)
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(repositories.c.name).like(f"%{escaped}%", escape="\\"))
    if after:
        query = query.where(repositories.c.name > after)
    return [row[0] for row in conn.execute(query.order_by(repositories.c.name).limit(limit))]


@dataclass(frozen=True)
class ReferrerNode:
    manifest: ManifestRecord
    children: list[ReferrerNode] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """What the referrer is, by its artifact type: a signature, an SBOM, an attestation..."""
        text = (self.manifest.artifact_type or self.manifest.media_type or "").lower()
        for needle, label in (
            ("signature", "signature"),
            ("notary", "signature"),
            ("cosign", "signature"),
            ("sbom", "SBOM"),
            ("spdx", "SBOM"),
            ("cyclonedx", "SBOM"),
            ("in-toto", "attestation"),
            ("attestation", "attestation"),
            ("vuln", "scan report"),
        ):
            if needle in text:
                return label
        return "artifact"


def referrer_tree(conn: Connection, repository_id: int, digest: str, depth: int = 0) -> list[ReferrerNode]:
    if depth >= MAX_REFERRER_DEPTH:
        return []
    return [
        ReferrerNode(record, referrer_tree(conn, repository_id, record.digest, depth + 1))
        for record in manifest_rows.referrers(conn, repository_id, digest)
    ]


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class Platform:
    digest: str
    os: str
    architecture: str
    variant: str
    size: int


@dataclass(frozen=True)
class ManifestContent:
    """What a manifest's JSON says: its config and layers, or (an index) its platforms."""

    config: Layer | None = None
    layers: tuple[Layer, ...] = ()
    platforms: tuple[Platform, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(layer.size for layer in self.layers) + (self.config.size if self.config else 0)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _layer(entry: Any) -> Layer | None:
    if not isinstance(entry, dict):
        return None
    return Layer(str(entry.get("digest", "")), _int(entry.get("size")), str(entry.get("mediaType", "")))


def parse_content(content: bytes) -> ManifestContent:
    try:
        document = json.loads(content)
    except ValueError:
        return ManifestContent()
    if not isinstance(document, dict):
        return ManifestContent()
    annotations = document.get("annotations")
    notes = {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {}
    children = document.get("manifests")
    if isinstance(children, list):
        platforms = []
        for child in children:
            if not isinstance(child, dict):
                continue
            found = child.get("platform")
            platform: dict[str, Any] = found if isinstance(found, dict) else {}
            platforms.append(
                Platform(
                    str(child.get("digest", "")),
                    str(platform.get("os", "")),
                    str(platform.get("architecture", "")),
                    str(platform.get("variant", "")),
                    _int(child.get("size")),
                )
            )
        return ManifestContent(platforms=tuple(platforms), annotations=notes)
    layers = document.get("layers")
    found = [_layer(entry) for entry in layers] if isinstance(layers, list) else []
    return ManifestContent(
        config=_layer(document.get("config")),
        layers=tuple(layer for layer in found if layer is not None),
        annotations=notes,
    )
