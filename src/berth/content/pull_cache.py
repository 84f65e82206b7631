"""Recent manifest lookups, so a hot tag or digest is served without a database round trip.

Entries are kept per repository and dropped on every write to that repository made through
this process; a generation number stops a read that raced a write from caching what it read.
Writes made by other processes (workers, replicas) arrive on the invalidation bus
(:mod:`berth.invalidation`) within milliseconds and drop the same entries; if a message is
lost, the entry still expires after :data:`TTL_SECONDS`. Requests that miss the same entry
together share one read (:meth:`PullCache.read_through`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from berth.invalidation import MANIFESTS, InvalidationBus
from berth.metadata.pulls import PullLookup
from berth.single_flight import SingleFlight

TTL_SECONDS = 1.0
MAX_ENTRIES = 10_000

Key = tuple[str, str]  # (registry id, repository)
Generation = tuple[int, int]  # (resets of the whole cache, writes to the repository)
ReadKey = tuple[str, str, str, bool, Generation]


class PullCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[Key, dict[tuple[str, bool], tuple[float, PullLookup]]] = {}
        self._generations: dict[Key, int] = {}
        self._size = 0
        self._epoch = 0
        self._bus: InvalidationBus | None = None
        self._lock = threading.Lock()
        self._reads: SingleFlight[ReadKey, PullLookup] = SingleFlight()

    def attach(self, bus: InvalidationBus) -> None:
        """Publish this process's invalidations on ``bus`` and apply the other processes'."""
        self._bus = bus
        bus.subscribe(MANIFESTS, self._on_message)

    def generation(self, registry_id: str, repository: str) -> Generation:
        return self._epoch, self._generations.get((registry_id, repository), 0)

    def get(self, registry_id: str, repository: str, reference: str, by_tag: bool) -> PullLookup | None:
        found = self._entries.get((registry_id, repository), {}).get((reference, by_tag))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    async def read_through(
        self,
        registry_id: str,
        repository: str,
        reference: str,
        by_tag: bool,
        read: Callable[[], Awaitable[PullLookup]],
    ) -> PullLookup:
        """The cached lookup, or ``read()``'s, shared with the requests that miss it meanwhile.

        The repository's generation is part of the shared read's key: a request made after a
        write to the repository starts a read of its own.
        """
        found = self.get(registry_id, repository, reference, by_tag)
        if found is not None:
            return found
        generation = self.generation(registry_id, repository)
        key = (registry_id, repository, reference, by_tag, generation)
        found = await self._reads.run(key, read)
        if found.manifest is not None:
            self.put(registry_id, repository, reference, by_tag, found, generation)
        return found

    def put(
        self,
        registry_id: str,
        repository: str,
        reference: str,
        by_tag: bool,
        lookup: PullLookup,
        generation: Generation,
    ) -> None:
        """Remember a found manifest, unless the repository changed since ``generation``."""
        key = (registry_id, repository)
        with self._lock:
            if (self._epoch, self._generations.get(key, 0)) != generation:
                return
            if self._size >= self._max:
                self._entries.clear()
                self._size = 0
            entries = self._entries.setdefault(key, {})
            if (reference, by_tag) not in entries:
                self._size += 1
            entries[(reference, by_tag)] = (time.monotonic() + self._ttl, lookup)

    def invalidate(self, registry_id: str, repository: str) -> None:
        """Drop the repository's entries here, and tell the other processes to."""
        self._drop((registry_id, repository))
        if self._bus is not None:
            self._bus.publish(MANIFESTS, f"{registry_id}:{repository}")

    def _drop(self, key: Key) -> None:
        with self._lock:
            self._generations[key] = self._generations.get(key, 0) + 1
            self._size -= len(self._entries.pop(key, {}))

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()
            self._size = 0

    def _on_message(self, key: str | None) -> None:
        registry_id, sep, repository = (key or "").partition(":")
        if sep:
            self._drop((registry_id, repository))
        else:
            self.clear()
