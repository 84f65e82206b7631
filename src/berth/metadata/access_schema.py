"""Tables of the access model: directory identities and secrets, role assignments, the admin
user's passwords, repository-scoped tokens and scope maps, and token-signing keys.

Secrets are stored only as argon2 hashes. Times are UTC epoch seconds.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, String, Table, Text, UniqueConstraint

from berth.metadata.schema import metadata

identities = Table(
    "identities",
    metadata,
    Column("id", String(36), primary_key=True),  # object id (GUID)
    Column("kind", String(20), nullable=False),  # "user" | "service_principal"
    Column("display_name", String(256), nullable=False),
    Column("upn", String(256), nullable=True, unique=True),  # users: lower-cased UPN
    Column("app_id", String(36), nullable=True, unique=True),  # service principals: application id
    Column("password_hash", Text, nullable=True),  # users only
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", Float, nullable=False),
    # Tokens issued before this moment are void (set on disable and password reset).
    Column("valid_after", Float, nullable=False, server_default="0"),
)

identity_secrets = Table(
    "identity_secrets",
    metadata,
    Column("id", String(36), primary_key=True),  # key id
    Column("identity_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(256), nullable=False, server_default=""),
    Column("hint", String(8), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_identity_secret_identity", "identity_id"),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("principal_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("role_definition_id", String(36), nullable=False),
    Column("scope", String(512), nullable=False),  # lower-cased ARM scope
    Column("created_at", Float, nullable=False),
    UniqueConstraint("principal_id", "role_definition_id", "scope", name="uq_role_assignment"),
    Index("ix_role_assignment_principal", "principal_id"),
)

admin_passwords = Table(
    "admin_passwords",
    metadata,
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(20), primary_key=True),  # "password" | "password2"
    Column("secret_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

scope_maps = Table(
    "scope_maps",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("name_lower", String(50), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("actions", Text, nullable=False),  # JSON list of "repositories/<repo>/<action>"
    Column("created_at", Float, nullable=False),
    UniqueConstraint("registry_id", "name_lower", name="uq_scope_map_name"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("registry_id", String(32), ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("name_lower", String(50), nullable=False),
    Column("scope_map", String(50), nullable=False),  # scope map name (system maps start with "_")
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", Float, nullable=False),
    Column("valid_after", Float, nullable=False, server_default="0"),
    UniqueConstraint("registry_id", "name_lower", name="uq_token_name"),
)

token_passwords = Table(
    "token_passwords",
    metadata,
    Column("token_id", String(36), ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(20), primary_key=True),  # "password1" | "password2"
    Column("secret_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # Set when a newer key takes over signing; the key still verifies until retired_at + max lifetime.
    Column("retired_at", Float, nullable=True),
)
