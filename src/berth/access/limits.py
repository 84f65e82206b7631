"""Brute-force protection: failed authentications counted per client IP and per identity.

Each limiter is a sliding window kept in memory (per replica). Over the limit, further
attempts for that key are refused with ``429 TOOMANYREQUESTS`` and a ``Retry-After`` until the
oldest failure leaves the window; other IPs and identities are unaffected.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


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


# The null GUID says "the password is an ACR token"; it names no identity. Counting it as one
# would let a few forged tokens lock out every docker user holding an identity token.
_NOT_AN_IDENTITY = "00000000-0000-0000-0000-000000000000"


class LoginLimits:
    """The pair of limiters the token endpoints consult: by client IP and by identity name."""

    def __init__(self, per_ip: int, per_identity: int, window_seconds: float = 60.0) -> None:
        self.by_ip = FailureLimiter(per_ip, window_seconds)
        self.by_identity = FailureLimiter(per_identity, window_seconds)

    def retry_after(self, client_ip: str, identity: str | None) -> int | None:
        waits = [self.by_ip.retry_after(client_ip)]
        if identity and identity != _NOT_AN_IDENTITY:
            waits.append(self.by_identity.retry_after(identity.lower()))
        present = [w for w in waits if w is not None]
        return max(present) if present else None

    def record_failure(self, client_ip: str, identity: str | None) -> None:
        self.by_ip.record_failure(client_ip)
        if identity and identity != _NOT_AN_IDENTITY:
            self.by_identity.record_failure(identity.lower())
