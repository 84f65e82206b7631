"""Concurrent reads of one key share one call: its result, its exception, and not its
cancellation."""

from __future__ import annotations

import asyncio

import pytest

from berth.single_flight import SingleFlight


class Reads:
    """A read that counts its calls and finishes when the test lets it."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return self.calls


def test_callers_of_one_key_share_one_read() -> None:
    async def scenario() -> None:
        flights: SingleFlight[str, int] = SingleFlight()
        reads = Reads()
        waiting = [asyncio.ensure_future(flights.run("a", reads)) for _ in range(100)]
        await asyncio.sleep(0)
        assert flights.running() == 1
        reads.release.set()
        assert await asyncio.gather(*waiting) == [1] * 100
        assert reads.calls == 1
        assert flights.running() == 0
        # Once it has finished, the next caller reads again.
        assert await flights.run("a", reads) == 2

    asyncio.run(scenario())


def test_other_keys_read_on_their_own() -> None:
    async def scenario() -> None:
        flights: SingleFlight[tuple[str, int], int] = SingleFlight()
        reads = Reads()
        reads.release.set()
        results = await asyncio.gather(
            flights.run(("a", 0), reads), flights.run(("a", 1), reads), flights.run(("b", 0), reads)
        )
        assert sorted(results) == [1, 2, 3]

    asyncio.run(scenario())


def test_every_waiter_gets_the_exception_and_the_next_caller_reads_again() -> None:
    async def scenario() -> None:
        flights: SingleFlight[str, int] = SingleFlight()
        reads = Reads()
        reads.fail = OSError("database gone")
        waiting = [asyncio.ensure_future(flights.run("a", reads)) for _ in range(3)]
        await asyncio.sleep(0)
        reads.release.set()
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(outcome, OSError) for outcome in outcomes)
        reads.fail = None
        assert await flights.run("a", reads) == 2

    asyncio.run(scenario())


def test_a_cancelled_caller_does_not_cancel_the_read_of_the_others() -> None:
    async def scenario() -> None:
        flights: SingleFlight[str, int] = SingleFlight()
        reads = Reads()
        first = asyncio.ensure_future(flights.run("a", reads))
        second = asyncio.ensure_future(flights.run("a", reads))
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        reads.release.set()
        assert await second == 1
        assert reads.calls == 1

    asyncio.run(scenario())


def test_a_failed_read_that_nobody_waits_for_is_not_reported_as_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        flights: SingleFlight[str, int] = SingleFlight()
        reads = Reads()
        reads.fail = OSError("database gone")
        caller = asyncio.ensure_future(flights.run("a", reads))
        await asyncio.sleep(0)
        caller.cancel()
        reads.release.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert flights.running() == 0

    asyncio.run(scenario())
    assert "never retrieved" not in caplog.text
