"""Reading a registry's login and repository events (registry Reader or above)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from berth.events import store
from berth.events.store import EventFilter
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord


class LogsAdmin:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def query(self, registry: RegistryRecord, kind: str, where: EventFilter) -> list[dict[str, Any]]:
        """Events of one registry, newest first (or oldest first after ``after_id``, for following)."""
        scoped = replace(where, registry_id=registry.id)
        if kind == "login":
            return await self._db.read(store.login_query, scoped)
        return await self._db.read(store.repository_query, scoped)
