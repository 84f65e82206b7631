"""Background maintenance on a schedule: one daemon thread per job, stopped with the server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("berth.schedule")


class Every:
    """Runs ``job`` every ``seconds`` in a daemon thread (first at once when ``at_start``); an
    error is logged and the job tried again at its next time."""

    def __init__(self, seconds: float, job: Callable[[], object], name: str, *, at_start: bool) -> None:
        self._seconds = seconds
        self._job = job
        self._name = name
        self._at_start = at_start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        if self._at_start:
            self._once()
        while not self._stop.wait(self._seconds):
            self._once()

    def _once(self) -> None:
        try:
            self._job()
        except Exception:
            log.exception("%s failed; trying again in %.0f s", self._name, self._seconds)
