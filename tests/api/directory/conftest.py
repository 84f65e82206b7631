"""The directory's endpoints, driven in-process with the management suite's fixtures."""

from tests.api.management.conftest import app, client, owner, principal, settings

__all__ = ["app", "client", "owner", "principal", "settings"]
