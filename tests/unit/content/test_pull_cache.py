"""The pull cache serves what was looked up, forgets a repository on every write to it, and
never keeps what a read saw while a write was in flight."""

from __future__ import annotations

import time

from berth.content.pull_cache import PullCache
from berth.invalidation import MANIFESTS, InProcessBus
from berth.metadata.pulls import PullLookup

FOUND = PullLookup(None, None, b"{}", None)


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
