"""The invalidation bus carries a message from one process's bus to another's, on SQLite (a
polled table) and PostgreSQL (LISTEN/NOTIFY); two buses on two engines stand for two processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from berth.invalidation import (
    AUTH_FAILURES,
    MANIFESTS,
    InProcessBus,
    InvalidationBus,
    PostgresBus,
    SqliteBus,
    bus_for,
    publish_once,
)
from berth.metadata.database import Database


class Inbox:
    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self._changed = threading.Condition()

    def __call__(self, key: str | None) -> None:
        with self._changed:
            self.keys.append(key)
            self._changed.notify_all()

    def wait_for(self, key: str, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: key in self.keys, timeout)


def _bus(db: Database) -> InvalidationBus:
    return bus_for(db, workers=2)


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[InvalidationBus, InvalidationBus]]:
    first, second = Database(database_url), Database(database_url)
    first.create_schema()
    buses = (_bus(first), _bus(second))
    for bus in buses:
        bus.start()
        assert bus.wait_ready()
    yield buses
    for bus in buses:
        bus.stop()
    first.dispose()
    second.dispose()


def test_the_engine_picks_the_carrier(database_url: str) -> None:
    db = Database(database_url)
    expected = SqliteBus if db.is_sqlite else PostgresBus
    assert isinstance(bus_for(db, workers=2), expected)
    assert isinstance(bus_for(db, workers=1), InProcessBus if db.is_sqlite else PostgresBus)
    db.dispose()


def test_a_message_reaches_the_other_process_but_not_the_publisher(
    two_processes: tuple[InvalidationBus, InvalidationBus],
) -> None:
    publisher, receiver = two_processes
    mine, theirs = Inbox(), Inbox()
    publisher.subscribe(MANIFESTS, mine)
    receiver.subscribe(MANIFESTS, theirs)
    receiver.subscribe(AUTH_FAILURES, theirs)
    publisher.publish(MANIFESTS, "registry:library/app")
    publisher.publish(AUTH_FAILURES, "10.0.0.1\nalice")
    assert theirs.wait_for("registry:library/app")
    assert theirs.wait_for("10.0.0.1\nalice")
    time.sleep(0.2)  # the publisher's own message, had it come back, would be here by now
    assert "registry:library/app" not in mine.keys


def test_a_short_lived_process_publishes_synchronously(
    database_url: str, two_processes: tuple[InvalidationBus, InvalidationBus]
) -> None:
    _, receiver = two_processes
    inbox = Inbox()
    receiver.subscribe(MANIFESTS, inbox)
    cli = Database(database_url)
    publish_once(cli, MANIFESTS, "registry:from-the-cli")
    cli.dispose()
    assert inbox.wait_for("registry:from-the-cli")
