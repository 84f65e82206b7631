"""berth.access.limits: per address, per (name, address), and a per-name ceiling."""

from __future__ import annotations

from berth.access.limits import LoginLimits, WindowCounter
from berth.invalidation import AUTH_FAILURES, InProcessBus

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def test_a_name_guessed_from_one_address_is_blocked_there_only() -> None:
    limits = LoginLimits(per_ip=100, per_identity=3, per_identity_total=100)
    for _ in range(3):
        limits.record_failure("198.51.100.66", "CI-Token")

    assert limits.retry_after("198.51.100.66", "ci-token") is not None
    assert limits.retry_after("203.0.113.5", "ci-token") is None
    assert limits.retry_after("198.51.100.66", "other") is None


def test_the_per_name_ceiling_counts_every_address() -> None:
    limits = LoginLimits(per_ip=100, per_identity=100, per_identity_total=4)
    for i in range(4):
        limits.record_failure(f"198.51.100.{i}", "ci-token")

    assert limits.retry_after("203.0.113.5", "ci-token") is not None
    assert limits.retry_after("203.0.113.5", "other") is None


def test_the_address_limit_covers_every_name() -> None:
    limits = LoginLimits(per_ip=3, per_identity=100, per_identity_total=100)
    for i in range(3):
        limits.record_failure("198.51.100.66", f"name-{i}")

    assert limits.retry_after("198.51.100.66", "fresh-name") is not None
    assert limits.retry_after("198.51.100.66", None) is not None
    assert limits.retry_after("203.0.113.5", "name-0") is None


def test_the_null_guid_is_not_a_name() -> None:
    limits = LoginLimits(per_ip=100, per_identity=1, per_identity_total=1)
    limits.record_failure("198.51.100.66", NULL_GUID)

    assert limits.retry_after("198.51.100.66", NULL_GUID) is None
    assert limits.retry_after("203.0.113.5", NULL_GUID) is None


def test_zero_turns_a_limit_off() -> None:
    limits = LoginLimits(per_ip=0, per_identity=0, per_identity_total=0)
    for _ in range(50):
        limits.record_failure("198.51.100.66", "ci-token")

    assert limits.retry_after("198.51.100.66", "ci-token") is None


def test_window_counter_resets_after_the_window() -> None:
    counter = WindowCounter(limit=2, window_seconds=0.0)
    counter.record_failure("key")
    counter.record_failure("key")

    assert counter.retry_after("key") is None  # a zero-length window has always passed


def test_window_counter_reports_the_wait() -> None:
    counter = WindowCounter(limit=2, window_seconds=60.0)
    counter.record_failure("key")
    assert counter.retry_after("key") is None
    counter.record_failure("key")

    wait = counter.retry_after("key")
    assert wait is not None
    assert 1 <= wait <= 60


def test_window_counter_keeps_a_bounded_number_of_keys() -> None:
    counter = WindowCounter(limit=1, window_seconds=60.0, max_keys=2)
    for key in ("a", "b", "c"):
        counter.record_failure(key)

    assert counter.retry_after("a") is None
    assert counter.retry_after("b") is not None
    assert counter.retry_after("c") is not None


class RecordingBus(InProcessBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, str]] = []

    def publish(self, topic: str, key: str) -> None:
        self.published.append((topic, key))


def test_failures_are_published_and_the_other_processes_failures_counted() -> None:
    bus = RecordingBus()
    limits = LoginLimits(per_ip=100, per_identity=3, per_identity_total=100)
    limits.attach(bus)
    limits.record_failure("198.51.100.66", "ci-token")
    assert bus.published == [(AUTH_FAILURES, "198.51.100.66\nci-token")]
    for _ in range(2):  # two more, made on other processes
        bus._deliver("another process", AUTH_FAILURES, "198.51.100.66\nci-token")
    assert limits.retry_after("198.51.100.66", "ci-token") is not None
    assert len(bus.published) == 1  # what others counted is not published again
