"""Metadata: schema and data access for SQLite (default) and PostgreSQL."""
