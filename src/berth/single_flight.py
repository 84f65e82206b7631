"""One read at a time per key: requests that miss a cache together share the first one's read.

The hot caches (:class:`berth.registry.hosts.RegistryDirectory`,
:class:`berth.content.pull_cache.PullCache`) keep an entry for a second. Without this, every
request that arrives while an entry is missing or expired starts its own database read: with
1,000 keep-alive connections on one worker, each expiry sent hundreds of identical reads to
the thread pool at once, the pool's threads fought over the GIL, and requests on every
connection waited behind them (the bench's ``manifest-get-1000`` p99 was 1.4-1.8 s).

:meth:`SingleFlight.run` starts the read for a key once; callers that ask for the same key
while it runs await the same result, or the same exception. The caller chooses the key, and
must put into it whatever makes a read already running too old to share: the caches add their
generation, which a write made through this process raises before it answers, so a request
that follows a write never joins a read begun before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class SingleFlight(Generic[K, T]):
    """Concurrent :meth:`run` calls for one key, in one event loop, share one call of ``read``."""

    def __init__(self) -> None:
        self._running: dict[tuple[asyncio.AbstractEventLoop, K], asyncio.Future[T]] = {}

    async def run(self, key: K, read: Callable[[], Awaitable[T]]) -> T:
        slot = (asyncio.get_running_loop(), key)
        running = self._running.get(slot)
        if running is None:
            running = asyncio.ensure_future(read())
            self._running[slot] = running
            running.add_done_callback(lambda done: self._finished(slot, done))
        # A caller that is cancelled stops waiting; the read goes on for the others.
        return await asyncio.shield(running)

    def running(self) -> int:
        """How many reads are running (for tests)."""
        return len(self._running)

    def _finished(self, slot: tuple[asyncio.AbstractEventLoop, K], done: asyncio.Future[T]) -> None:
        if self._running.get(slot) is done:
            del self._running[slot]
        if not done.cancelled():
            done.exception()  # retrieved here: every waiter may have been cancelled meanwhile
