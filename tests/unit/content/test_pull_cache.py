"""The pull cache serves what was looked up, forgets a repository on every write to it, and
never keeps what a read saw while a write was in flight."""

from __future__ import annotations

import asyncio
import time
from typing import cast

from berth.content.pull_cache import PullCache
from berth.invalidation import MANIFESTS, InProcessBus
from berth.metadata.manifests import ManifestRecord
from berth.metadata.pulls import PullLookup

FOUND = PullLookup(None, None, b"{}", None)


def stored(content: bytes) -> PullLookup:
    """A lookup that found a manifest (only those are cached); the record's fields do not matter."""
    return PullLookup(None, cast(ManifestRecord, object()), content, None)


STORED = stored(b"{}")


def test_a_hit_until_the_repository_changes() -> None:
    cache = PullCache()
    cache.put("r", "app", "latest", True, FOUND, cache.generation("r", "app"))
    assert cache.get("r", "app", "latest", True) is FOUND
    assert cache.get("r", "app", "latest", False) is None  # a digest lookup is another key
    cache.invalidate("r", "app")
    assert cache.get("r", "app", "latest", True) is None


def test_a_read_that_raced_a_write_is_not_kept() -> None:
    cache = PullCache()
    before = cache.generation("r", "app")
    cache.invalidate("r", "app")  # a write committed while the read was running
    cache.put("r", "app", "latest", True, FOUND, before)
    assert cache.get("r", "app", "latest", True) is None


def test_other_repositories_and_registries_are_untouched() -> None:
    cache = PullCache()
    for registry, repository in (("r", "app"), ("r", "other"), ("s", "app")):
        cache.put(registry, repository, "v1", True, FOUND, (0, 0))
    cache.invalidate("r", "app")
    assert cache.get("r", "other", "v1", True) is FOUND
    assert cache.get("s", "app", "v1", True) is FOUND


def test_entries_expire_for_other_replicas_writes() -> None:
    cache = PullCache(ttl=0.05)
    cache.put("r", "app", "v1", True, FOUND, (0, 0))
    time.sleep(0.1)
    assert cache.get("r", "app", "v1", True) is None


def test_size_is_bounded() -> None:
    cache = PullCache(max_entries=3)
    for number in range(5):
        cache.put("r", "app", f"v{number}", True, FOUND, (0, 0))
    hits = [cache.get("r", "app", f"v{number}", True) for number in range(5)]
    assert sum(hit is not None for hit in hits) <= 3


def test_a_message_from_another_process_drops_the_repository() -> None:
    bus = InProcessBus()
    cache = PullCache()
    cache.attach(bus)
    cache.put("r", "app", "v1", True, FOUND, (0, 0))
    cache.put("r", "other", "v1", True, FOUND, (0, 0))
    bus._deliver("elsewhere", MANIFESTS, "r:app")
    assert cache.get("r", "app", "v1", True) is None
    assert cache.get("r", "other", "v1", True) is FOUND


def test_a_reset_drops_everything_and_refuses_reads_that_started_before() -> None:
    bus = InProcessBus()
    cache = PullCache()
    cache.attach(bus)
    before = cache.generation("r", "app")
    cache.put("r", "other", "v1", True, FOUND, (0, 0))
    bus._deliver("elsewhere", MANIFESTS, None)
    cache.put("r", "app", "v1", True, FOUND, before)
    assert cache.get("r", "other", "v1", True) is None
    assert cache.get("r", "app", "v1", True) is None


def test_requests_that_miss_together_share_one_read() -> None:
    cache = PullCache()
    calls = []

    async def read() -> PullLookup:
        calls.append(1)
        await asyncio.sleep(0.01)
        return STORED

    async def scenario() -> list[PullLookup]:
        return await asyncio.gather(*(cache.read_through("r", "app", "v1", True, read) for _ in range(50)))

    assert asyncio.run(scenario()) == [STORED] * 50
    assert len(calls) == 1
    assert cache.get("r", "app", "v1", True) is STORED


def test_a_request_after_a_write_does_not_join_a_read_begun_before_it() -> None:
    """Read-your-writes: the write raised the repository's generation, so the request that
    follows it reads for itself, and the older read's result is not cached."""
    cache = PullCache()
    before, after = stored(b"old"), stored(b"new")
    older_may_finish = asyncio.Event()

    async def older_read() -> PullLookup:
        await older_may_finish.wait()
        return before

    async def newer_read() -> PullLookup:
        return after

    async def scenario() -> tuple[PullLookup, PullLookup]:
        older = asyncio.ensure_future(cache.read_through("r", "app", "v1", True, older_read))
        await asyncio.sleep(0)
        cache.invalidate("r", "app")  # a write committed while the older read was running
        newer = await cache.read_through("r", "app", "v1", True, newer_read)
        older_may_finish.set()
        return await older, newer

    assert asyncio.run(scenario()) == (before, after)
    assert cache.get("r", "app", "v1", True) is after


def test_a_lookup_that_found_no_manifest_is_shared_but_not_cached() -> None:
    cache = PullCache()
    missing = PullLookup(None, None, None, None)

    async def read() -> PullLookup:
        return missing

    assert asyncio.run(cache.read_through("r", "app", "v1", True, read)) is missing
    assert cache.get("r", "app", "v1", True) is None
