"""The event writer keeps up with the requests: one wake-up writes everything queued."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from berth.events import recorder as recorder_module
from berth.events.metrics import Metrics
from berth.events.model import LoginEvent, RepositoryEvent
from berth.events.observer import RepositoryOperation, RequestSummary
from berth.events.recorder import BATCH_SIZE, EventRecorder
from berth.metadata.registries import RegistryRecord

REGISTRY = RegistryRecord("r" * 32, "myreg", "rg", "local", "Standard", 0.0)


class RecordingDatabase:
    """Stands in for :class:`~berth.metadata.database.Database`: keeps each batch written."""

    def __init__(self) -> None:
        self.batches: list[list[RepositoryEvent]] = []
        self.lock = threading.Lock()

    def write_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        if fn.__name__ == "insert":
            logins, repositories = args
            assert logins == []
            with self.lock:
                self.batches.append(list(repositories))
        return 0


@pytest.fixture
def database() -> RecordingDatabase:
    return RecordingDatabase()


@pytest.fixture
def recorder(database: RecordingDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[EventRecorder]:
    # A gathering pause far longer than the test: only a wake-up (flush) ends it.
    monkeypatch.setattr(recorder_module, "FLUSH_SECONDS", 3600.0)
    events = EventRecorder(database, Metrics(), retention_days=30)  # type: ignore[arg-type]
    events.start()
    yield events
    events.stop()


def pull(n: int) -> RequestSummary:
    return RequestSummary(
        method="GET",
        path=f"/v2/app/manifests/v{n}",
        route="manifest",
        status=200,
        duration_ms=1.0,
        client_ip="10.0.0.1",
        user_agent="docker/27",
        correlation_id=f"cid-{n}",
        login_server="myreg.example",
        registry=REGISTRY,
        operations=[RepositoryOperation("Pull", "app", tag=f"v{n}")],
    )


def test_one_wake_up_writes_every_queued_batch(recorder: EventRecorder, database: RecordingDatabase) -> None:
    count = BATCH_SIZE * 3 + 17
    for n in range(count):
        recorder.request_finished(pull(n))

    recorder.flush(timeout=30)

    written = [event for batch in database.batches for event in batch]
    assert [event.correlation_id for event in written] == [f"cid-{n}" for n in range(count)]
    assert all(len(batch) <= BATCH_SIZE for batch in database.batches)
    assert len(database.batches) == 4


def test_stop_writes_what_is_queued(database: RecordingDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "FLUSH_SECONDS", 3600.0)
    events = EventRecorder(database, Metrics(), retention_days=30)  # type: ignore[arg-type]
    events.start()
    for n in range(BATCH_SIZE + 1):
        events.request_finished(pull(n))

    events.stop()

    assert sum(len(batch) for batch in database.batches) == BATCH_SIZE + 1
    assert not any(isinstance(event, LoginEvent) for batch in database.batches for event in batch)
