"""Recently signed ACR tokens, reused for identical requests within a short window.

Signing an RS256 token costs about 0.3 ms of CPU (RSA-2048), the largest part of a token
request once argon2 results are cached. A client asking again within :data:`REUSE_SECONDS` for
the same grant gets the token it was given before, unchanged: its ``exp`` (and ``iat``) are the
original ones, so the remaining lifetime it carries is honest (at most ``REUSE_SECONDS`` less
than a fresh token's 75 minutes).

The caller resolves the identity and its permissions from the database on every request before
it asks this cache, so a disabled, deleted or rate-limited identity never reaches it. What the
key holds makes every other change miss:

- the granted ``access`` claim (computed from the permissions as of now): a removed role or a
  changed scope map grants something else, so it is a different key;
- the registry, audience, identity, tenant, ``not_after`` (the refresh token's expiry) and the
  active signing key id (a rotated key signs new tokens at once);
- and an entry is reused only if it was issued at or after the identity's ``valid_after``
  (a token disabled and enabled again, or a user reset, refuses tokens issued before that).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from berth.access.tokens import TokenSubject

REUSE_SECONDS = 30.0
MAX_ENTRIES = 10_000

IssuedKey = tuple[object, ...]


@dataclass(frozen=True)
class Signed:
    token: str
    jwt_id: str
    issued_at: float  # the token's ``berth_iat`` (wall clock, seconds)


def issued_key(
    registry_id: str,
    audience: str,
    subject: TokenSubject,
    granted: list[dict[str, Any]],
    not_after: float | None,
    kid: str,
) -> IssuedKey:
    identity = subject.identity
    grant = tuple((entry["type"], entry["name"], tuple(entry["actions"])) for entry in granted)
    return (
        registry_id,
        audience,
        identity.kind.value,
        identity.name,
        identity.object_id,
        subject.subject_id,
        subject.tenant_id,
        grant,
        not_after,
        kid,
    )


class IssuedTokens:
    """Thread-safe, bounded (LRU) map of recently signed access tokens."""

    def __init__(
        self,
        window: float = REUSE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._window = window
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[IssuedKey, Signed] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: IssuedKey, valid_after: float) -> Signed | None:
        """The token signed for ``key`` less than the window ago and not before ``valid_after``."""
        if self._window <= 0:
            return None
        with self._lock:
            signed = self._entries.get(key)
            if signed is None:
                return None
            if self._clock() - signed.issued_at >= self._window:
                del self._entries[key]
                return None
        return signed if signed.issued_at >= valid_after else None

    def put(self, key: IssuedKey, signed: Signed) -> None:
        if self._window <= 0:
            return
        with self._lock:
            self._entries[key] = signed
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
