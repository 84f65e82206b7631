"""Tables of secretless credentials: federated identity credentials (trust in an external
OIDC issuer's tokens) and certificate credentials (public certificates only) of directory
identities. berth never stores a private key.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, String, Table, Text, UniqueConstraint

from berth.metadata.schema import metadata

federated_credentials = Table(
    "federated_credentials",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("identity_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("name_lower", String(120), nullable=False),
    Column("issuer", String(600), nullable=False),
    Column("subject", String(600), nullable=False),
    Column("audiences", Text, nullable=False),  # JSON list
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("identity_id", "name_lower", name="uq_federated_credential_name"),
    Index("ix_federated_credential_identity", "identity_id"),
)

key_credentials = Table(
    "key_credentials",
    metadata,
    Column("id", String(36), primary_key=True),  # key id
    Column("identity_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(256), nullable=False, server_default=""),
    Column("thumbprint_sha1", String(64), nullable=False),  # hex, upper case (az's customKeyIdentifier)
    Column("thumbprint_sha256", String(64), nullable=False),  # base64url, as in x5t#S256
    Column("certificate_pem", Text, nullable=False),  # the public certificate only
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_key_credential_identity", "identity_id"),
)

# User-assigned managed identities: an ``identities`` row (kind "managed_identity", app_id = the
# client id) plus where the ARM resource lives.
managed_identities = Table(
    "managed_identities",
    metadata,
    Column("identity_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_group", String(90), nullable=False),
    Column("resource_group_lower", String(90), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_lower", String(128), nullable=False),
    Column("location", String(64), nullable=False, server_default="local"),
    Column("tags", Text, nullable=False, server_default="{}"),  # JSON object
    UniqueConstraint("resource_group_lower", "name_lower", name="uq_managed_identity_name"),
)

# A host's proof that it may use a managed identity: a secret (argon2 hash only) handed out once,
# which the host sends as IDENTITY_HEADER to the managed identity token endpoint.
identity_host_credentials = Table(
    "identity_host_credentials",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("identity_id", String(36), ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
    Column("host", String(128), nullable=False),
    Column("host_lower", String(128), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("hint", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("identity_id", "host_lower", name="uq_identity_host"),
)
