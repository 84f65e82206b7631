"""Recent manifest lookups, so a hot tag or digest is served without a database round trip.

Entries are kept per repository and dropped on every write to that repository made through
this process; a generation number stops a read that raced a write from caching what it read.
Writes made by other replicas show after :data:`TTL_SECONDS` at most.
"""

from __future__ import annotations

import threading
import time

from berth.metadata.pulls import PullLookup

TTL_SECONDS = 1.0
MAX_ENTRIES = 10_000

Key = tuple[str, str]  # (registry id, repository)


class PullCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[Key, dict[tuple[str, bool], tuple[float, PullLookup]]] = {}
        self._generations: dict[Key, int] = {}
        self._size = 0
        self._lock = threading.Lock()

    def generation(self, registry_id: str, repository: str) -> int:
        return self._generations.get((registry_id, repository), 0)

    def get(self, registry_id: str, repository: str, reference: str, by_tag: bool) -> PullLookup | None:
        found = self._entries.get((registry_id, repository), {}).get((reference, by_tag))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(
        self,
        registry_id: str,
        repository: str,
        reference: str,
        by_tag: bool,
        lookup: PullLookup,
        generation: int,
    ) -> None:
        """Remember a found manifest, unless the repository changed since ``generation``."""
        key = (registry_id, repository)
        with self._lock:
            if self._generations.get(key, 0) != generation:
                return
            if self._size >= self._max:
                self._entries.clear()
                self._size = 0
            entries = self._entries.setdefault(key, {})
            if (reference, by_tag) not in entries:
                self._size += 1
            entries[(reference, by_tag)] = (time.monotonic() + self._ttl, lookup)

    def invalidate(self, registry_id: str, repository: str) -> None:
        key = (registry_id, repository)
        with self._lock:
            self._generations[key] = self._generations.get(key, 0) + 1
            self._size -= len(self._entries.pop(key, {}))
