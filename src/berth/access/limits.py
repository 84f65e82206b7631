"""Brute-force protection that throttles the attacker, not the victim.

Failed authentications are counted three ways, in memory:

- per client address, whatever the names tried (``auth_failures_per_ip``);
- per identity *and* address (``auth_failures_per_identity``): a guesser of one name is stopped
  at its own address, while the name's owner, signing in from anywhere else, is not;
- per identity over all addresses, a much higher ceiling (``auth_failures_per_identity_total``)
  that bounds a guessing campaign spread over many addresses.

Over a limit, further attempts for that key are refused with ``429 TOOMANYREQUESTS`` and a
``Retry-After`` until the window allows them again (the right password too: an attacker must
not learn when it guessed right); other keys are unaffected. docs/security.md (section edge)
describes the policy.

Several processes (workers, replicas) share the counts through the invalidation bus: each
failure is counted where it happened and published; every other process counts it too on
receipt (milliseconds later on PostgreSQL ``NOTIFY``). The counts are not stored: a process
that starts (or whose bus connection was down) misses the failures of at most one window, and
attempts racing on several processes in the same few milliseconds can pass the limit by the
number in flight. docs/deployment.md states this bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from berth.invalidation import AUTH_FAILURES, InvalidationBus


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float] | None:
        entries = self._failures.get(key)
        if entries is None:
            return None
        while entries and entries[0] <= now - self.window:
            entries.popleft()
        if not entries:
            del self._failures[key]
            return None
        return entries

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait when ``key`` is over the limit, else None."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            entries = self._trim(key, now)
            if entries is None or len(entries) < self.limit:
                return None
            return max(1, math.ceil(entries[0] + self.window - now))

    def record_failure(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if key not in self._failures and len(self._failures) >= self._max_keys:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(key, deque()).append(now)
            entries = self._failures[key]
            while len(entries) > self.limit:
                entries.popleft()


class WindowCounter:
    """A fixed-window failure count per key: constant memory per key, for high limits."""

    def __init__(self, limit: int, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            entry = self._counts.get(key)
            if entry is None or entry[0] + self.window <= now or entry[1] < self.limit:
                return None
            return max(1, math.ceil(entry[0] + self.window - now))

    def record_failure(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            entry = self._counts.get(key)
            if entry is None or entry[0] + self.window <= now:
                if entry is None and len(self._counts) >= self._max_keys:
                    self._counts.pop(next(iter(self._counts)))
                entry = (now, 0)
            self._counts[key] = (entry[0], entry[1] + 1)


# The null GUID says "the password is an ACR token"; it names no identity. Counting it as one
# would let a few forged tokens lock out every docker user holding an identity token.
_NOT_AN_IDENTITY = "00000000-0000-0000-0000-000000000000"


class LoginLimits:
    """The limiters the token endpoints and Basic data calls consult (see the module docstring)."""

    def __init__(
        self,
        per_ip: int,
        per_identity: int,
        window_seconds: float = 60.0,
        per_identity_total: int = 0,
    ) -> None:
        self.by_ip = FailureLimiter(per_ip, window_seconds)
        self.by_identity_at_ip = FailureLimiter(per_identity, window_seconds)
        self.by_identity = WindowCounter(per_identity_total, window_seconds)
        self._bus: InvalidationBus | None = None

    def attach(self, bus: InvalidationBus) -> None:
        """Publish this process's failures on ``bus`` and count the other processes'."""
        self._bus = bus
        bus.subscribe(AUTH_FAILURES, self._on_message)

    def _on_message(self, key: str | None) -> None:
        if key:
            client_ip, _, identity = key.partition("\n")
            self._count(client_ip, identity or None)

    def retry_after(self, client_ip: str, identity: str | None) -> int | None:
        waits = [self.by_ip.retry_after(client_ip)]
        if identity and identity != _NOT_AN_IDENTITY:
            name = identity.lower()
            waits.append(self.by_identity_at_ip.retry_after(f"{name}\0{client_ip}"))
            waits.append(self.by_identity.retry_after(name))
        present = [w for w in waits if w is not None]
        return max(present) if present else None

    def record_failure(self, client_ip: str, identity: str | None) -> None:
        self._count(client_ip, identity)
        if self._bus is not None:
            self._bus.publish(AUTH_FAILURES, f"{client_ip}\n{identity or ''}")

    def _count(self, client_ip: str, identity: str | None) -> None:
        self.by_ip.record_failure(client_ip)
        if identity and identity != _NOT_AN_IDENTITY:
            name = identity.lower()
            self.by_identity_at_ip.record_failure(f"{name}\0{client_ip}")
            self.by_identity.record_failure(name)
