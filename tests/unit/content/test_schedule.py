"""berth.content.schedule: background jobs run on their schedule and survive their own errors."""

from __future__ import annotations

import threading

import pytest

from berth.content.schedule import Every


def test_a_job_runs_at_start_and_again_after_an_error(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    twice = threading.Event()

    def job() -> None:
        runs.append(len(runs))
        if len(runs) >= 2:
            twice.set()
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    every = Every(0.01, job, "test-job", at_start=True)
    every.start()
    assert twice.wait(10)
    every.stop()

    assert runs[:2] == [0, 1]
    assert "test-job failed" in caplog.text


def test_a_job_not_at_start_waits_for_its_time_and_stop_ends_it() -> None:
    ran = threading.Event()
    every = Every(3600.0, ran.set, "test-later", at_start=False)
    every.start()
    every.stop()

    assert not ran.is_set()
