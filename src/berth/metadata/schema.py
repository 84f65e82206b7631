"""Tables of the registry's content metadata (SQLAlchemy Core, portable to SQLite and PostgreSQL).

Times are UTC seconds since the epoch (floats). Every content row carries its registry, so
the metadata of registries is strictly separate. Access-control and event tables live in
their own modules and attach to the same :data:`metadata` object.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def changeable_attributes() -> list[Column[bool]]:
    """ACR's changeable attributes, on repositories, tags and manifests alike (all true by default)."""
    return [
        Column(name, Boolean, nullable=False, server_default="1")
        for name in ("delete_enabled", "write_enabled", "read_enabled", "list_enabled")
    ]


SCHEMA_VERSION = 1

settings_table = Table(
    "berth_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

registries = Table(
    "registries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("name_lower", String(50), nullable=False, unique=True),
    Column("resource_group", String(90), nullable=False, server_default="default"),
    Column("location", String(50), nullable=False, server_default="local"),
    Column("sku", String(20), nullable=False, server_default="Premium"),
    Column("created_at", Float, nullable=False),
    Column("admin_enabled", Boolean, nullable=False, server_default="0"),
    Column("anonymous_pull_enabled", Boolean, nullable=False, server_default="0"),
    Column("public_network_enabled", Boolean, nullable=False, server_default="1"),
    Column("network_default_action", String(10), nullable=False, server_default="Allow"),
    # JSON list of {"action": "Allow", "value": "<ip or cidr>"}
    Column("ip_rules", Text, nullable=False, server_default="[]"),
    Column("tags", Text, nullable=False, server_default="{}"),
    # Bytes the registry may store (berth.content.quota): NULL follows the service's
    # default_storage_quota, -1 is unlimited. Added after schema version 1 (see add_missing_columns).
    Column("storage_quota", BigInteger, nullable=True),
)

# What each registry stores, kept in the transactions that add or remove blobs and manifests
# (berth.metadata.usage), so that the storage quota reads one row on every upload's completion.
registry_usage = Table(
    "registry_usage",
    metadata,
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("stored_bytes", BigInteger, nullable=False, server_default="0"),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    *changeable_attributes(),
    UniqueConstraint("registry_id", "name", name="uq_repository_name"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(150), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

repository_blobs = Table(
    "repository_blobs",
    metadata,
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(150), primary_key=True),
    Column("created_at", Float, nullable=False),
)

manifests = Table(
    "manifests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(150), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("artifact_type", String(255), nullable=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("subject", String(150), nullable=True),
    Column("annotations", Text, nullable=True),
    Column("config_digest", String(150), nullable=True),
    Column("image_size", BigInteger, nullable=False, server_default="0"),
    Column("architecture", String(50), nullable=True),
    Column("os", String(50), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    *changeable_attributes(),
    UniqueConstraint("repository_id", "digest", name="uq_manifest_digest"),
    Index("ix_manifest_subject", "repository_id", "subject"),
)

manifest_references = Table(
    "manifest_references",
    metadata,
    Column("manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(150), primary_key=True),
    # "blob" for config and layers, "manifest" for the children of an index or list
    Column("kind", String(10), primary_key=True),
    Column("platform_os", String(50), nullable=True),
    Column("platform_architecture", String(50), nullable=True),
)

tags = Table(
    "tags",
    metadata,
    Column("repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("digest", String(150), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    *changeable_attributes(),
    Index("ix_tag_digest", "repository_id", "digest"),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("repository", String(255), nullable=False),
    Column("size", BigInteger, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The parts an upload session accepted, in order: each request that sent bytes wrote one part of
# its own, and the session's size moved from ``start`` to ``start + size`` when it was accepted.
upload_parts = Table(
    "upload_parts",
    metadata,
    Column("upload_id", String(64), ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    Column("start", BigInteger, primary_key=True),
    Column("part", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
)
