"""The metadata fixtures (a fresh database on SQLite and PostgreSQL) for the portal's queries."""

from tests.unit.metadata.conftest import db, registry

__all__ = ["db", "registry"]
