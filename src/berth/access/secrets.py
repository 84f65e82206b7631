"""Secrets: generated, hashed with argon2 at rest, verified with a short success cache.

A name that has no stored hash still costs a verification against a dummy hash
(:meth:`SecretVerifier.spend`), so the time of a refusal does not tell whether the name exists.

A :class:`Secret` never prints its value (``repr`` and ``str`` show ``***``), so it cannot end
up in a log line by accident. Successful verifications are cached for a minute under a keyed
hash of (stored hash, presented secret) — never the secret itself — so a data-plane request
with Basic credentials does not pay argon2's cost every time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _random
import threading
import time
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None
_CACHE_SECONDS = 60.0
_CACHE_SIZE = 4096


class Secret:
    """A secret value that refuses to print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


def generate(length: int = 40) -> Secret:
    """A random secret of URL-safe characters (letters, digits, ``-`` and ``_`` never first)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return Secret("".join(_random.choice(alphabet) for _ in range(length)))


def hash_secret(secret: Secret) -> str:
    return _HASHER.hash(secret.reveal())


def _dummy_hash() -> str:
    """A hash of a random secret, made by the current hasher (so with the same parameters)."""
    global _dummy
    if _dummy is None or _dummy[0] is not _HASHER:
        _dummy = (_HASHER, _HASHER.hash(generate().reveal()))
    return _dummy[1]


def hint(secret: Secret) -> str:
    return secret.reveal()[:3]


class SecretVerifier:
    """Checks a presented secret against stored argon2 hashes, caching successes briefly."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(32)
        self._cache: OrderedDict[bytes, float] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}
        self._lock = threading.Lock()

    def _cache_key(self, stored_hash: str, presented: str) -> bytes:
        return hmac.new(self._key, f"{stored_hash}\0{presented}".encode(), hashlib.sha256).digest()

    def spend(self, presented: str, count: int = 1) -> None:
        """Do the work of ``count`` failed verifications, for a name with fewer stored hashes.

        Unknown names, disabled admin users and identities without secrets are refused after
        the same argon2 work as a wrong password, so timing does not reveal which names exist
        (also when identical attempts overlap: they wait for each other as in :meth:`verify`).
        """
        dummy = _dummy_hash()
        for _ in range(count):
            self._verify_once(dummy, presented)

    def verify(self, stored_hash: str, presented: str) -> bool:
        return self._verify_once(stored_hash, presented)

    def _verify_once(self, stored_hash: str, presented: str) -> bool:
        """argon2 verification, at most one at a time per (stored hash, presented secret).

        A burst of identical requests with a cold cache (docker clients starting together,
        each worker's first minute) would otherwise run argon2 once per request at the same
        time — tens of 64 MiB verifications for one answer. The first one verifies; identical
        ones wait for it and take its success. A failure is not shared: each waiter then
        verifies itself, one after the other, so a wrong password costs every attempt the same
        work, and :meth:`spend` goes through here too, so an unknown name serialises identical
        attempts exactly as a known name with a wrong password does.
        """
        key = self._cache_key(stored_hash, presented)
        while True:
            with self._lock:
                expiry = self._cache.get(key)
                if expiry is not None and expiry > time.monotonic():
                    return True
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = _Flight()
                    break
            flight.done.wait()
            if flight.succeeded:
                return True
        succeeded = False
        try:
            _HASHER.verify(stored_hash, presented)
            succeeded = True
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        finally:
            with self._lock:
                del self._flights[key]
                if succeeded:
                    self._cache[key] = time.monotonic() + _CACHE_SECONDS
                    self._cache.move_to_end(key)
                    while len(self._cache) > _CACHE_SIZE:
                        self._cache.popitem(last=False)
            flight.succeeded = succeeded
            flight.done.set()
        return succeeded


class _Flight:
    """One argon2 verification in progress, for identical attempts to wait on."""

    __slots__ = ("done", "succeeded")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.succeeded = False
