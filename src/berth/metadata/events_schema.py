"""Tables of login and repository events (ACR's ContainerRegistryLoginEvents and
ContainerRegistryRepositoryEvents columns, plus berth's reason and scopes)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from berth.metadata.schema import metadata

login_events = Table(
    "login_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("registry_id", String(32), nullable=True),  # None for directory sign-ins
    Column("registry", String(50), nullable=False, server_default=""),
    Column("login_server", String(255), nullable=False, server_default=""),
    Column("operation", String(40), nullable=False),
    Column("identity", String(256), nullable=False, server_default=""),
    Column("identity_kind", String(30), nullable=False, server_default=""),
    Column("caller_ip", String(64), nullable=False, server_default=""),
    Column("user_agent", String(512), nullable=False, server_default=""),
    Column("jwt_id", String(64), nullable=False, server_default=""),
    Column("correlation_id", String(64), nullable=False),
    Column("duration_ms", Float, nullable=False, server_default="0"),
    Column("result_type", String(20), nullable=False),  # Succeeded | Failed
    Column("result_description", String(10), nullable=False),  # HTTP status as text
    Column("reason", String(40), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("requested_scopes", Text, nullable=False, server_default=""),
    Column("granted_scopes", Text, nullable=False, server_default=""),
    Index("ix_login_events_registry_time", "registry_id", "time"),
    # Lookups by correlation id (`berth acr diagnose`, /acr/v1/_diagnostics) filter on the
    # registry and sort by time: with the registry and time in the index SQLite picks it over
    # ix_login_events_registry_time (which it chose for a lone correlation_id index, scanning
    # every event of the registry: 0.75 s per million events). Replaces ix_login_events_correlation.
    Index("ix_login_events_correlation_time", "correlation_id", "registry_id", "time"),
    Index("ix_login_events_time", "time"),
)

repository_events = Table(
    "repository_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("registry_id", String(32), nullable=False),
    Column("registry", String(50), nullable=False, server_default=""),
    Column("login_server", String(255), nullable=False, server_default=""),
    Column("operation", String(20), nullable=False),  # Push | Pull | Delete | Untag
    Column("identity", String(256), nullable=False, server_default=""),
    Column("identity_kind", String(30), nullable=False, server_default=""),
    Column("caller_ip", String(64), nullable=False, server_default=""),
    Column("user_agent", String(512), nullable=False, server_default=""),
    Column("correlation_id", String(64), nullable=False),
    Column("duration_ms", Float, nullable=False, server_default="0"),
    Column("result_type", String(20), nullable=False),
    Column("result_description", String(10), nullable=False),
    Column("repository", String(255), nullable=False, server_default=""),
    Column("tag", String(512), nullable=False, server_default=""),
    Column("digest", String(150), nullable=False, server_default=""),
    Column("media_type", String(255), nullable=False, server_default=""),
    Column("artifact_type", String(255), nullable=False, server_default=""),
    Column("size", BigInteger, nullable=False, server_default="0"),
    # Why a failed operation failed (e.g. storage_quota_exceeded), as login events say it.
    Column("reason", String(40), nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_repository_events_registry_time", "registry_id", "time"),
    Index("ix_repository_events_time", "time"),
    # `berth acr logs repository --correlation-id`: without it, a scan of every stored event
    Index("ix_repository_events_correlation_time", "correlation_id", "registry_id", "time"),
)
