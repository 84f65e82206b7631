"""berth.access.secrets: the dummy verification that hides whether a name exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.access.secrets import Secret, SecretVerifier, generate, hash_secret


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_the_dummy_hash_has_the_parameters_of_real_hashes() -> None:
    real = hash_secret(generate())

    assert secrets._dummy_hash().split("$")[:4] == real.split("$")[:4]


def test_the_dummy_hash_follows_a_new_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    first = secrets._dummy_hash()
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))

    second = secrets._dummy_hash()

    assert second.split("$")[3] == "m=2048,t=2,p=1"
    assert second != first
    assert secrets._dummy_hash() is second


def test_spend_verifies_against_the_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    hasher = secrets._HASHER

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append((str(hash), str(password)))
            return hasher.verify(hash, password)

    counting = Counting(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(secrets, "_HASHER", counting)

    SecretVerifier().spend("guess", 2)
    SecretVerifier().spend("guess", 0)

    assert calls == [(secrets._dummy_hash(), "guess")] * 2


class _HeldHasher(PasswordHasher):
    """Counts verifications; the first one waits for ``release`` so others overlap with it."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.calls += 1
        self.started.set()
        self.release.wait(30)
        return super().verify(hash, password)


def _overlapping(monkeypatch: pytest.MonkeyPatch, attempt: Callable[[], object], count: int) -> list[object]:
    """Run ``attempt`` in ``count`` threads whose argon2 work overlaps the first one's."""
    held = _HeldHasher()
    monkeypatch.setattr(secrets, "_HASHER", held)
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(attempt()))
    first.start()
    assert held.started.wait(30)
    others = [threading.Thread(target=lambda: results.append(attempt())) for _ in range(count - 1)]
    for thread in others:
        thread.start()
    time.sleep(0.05)  # let the others reach the wait (the assertions hold either way)
    held.release.set()
    for thread in [first, *others]:
        thread.join(30)
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return [*results, held.calls]


def test_overlapping_identical_verifications_share_one_success(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = hash_secret(Secret("right"))
    verifier = SecretVerifier()

    *results, calls = _overlapping(monkeypatch, lambda: verifier.verify(stored, "right"), 5)

    assert results == [True] * 5
    assert calls == 1


def test_a_failure_is_not_shared_each_attempt_pays_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = hash_secret(Secret("right"))
    verifier = SecretVerifier()

    *results, calls = _overlapping(monkeypatch, lambda: verifier.verify(stored, "wrong"), 5)

    assert results == [False] * 5
    assert calls == 5


def test_overlapping_spends_each_pay_argon2_like_a_wrong_password(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets._dummy_hash()  # made before the held hasher is in place
    verifier = SecretVerifier()

    *results, calls = _overlapping(monkeypatch, lambda: verifier.spend("guess", 2), 3)

    assert results == [None] * 3
    assert calls == 6


def test_a_success_after_a_failure_is_still_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = hash_secret(Secret("right"))
    verifier = SecretVerifier()

    assert not verifier.verify(stored, "wrong")
    assert verifier.verify(stored, "right")
    assert verifier.verify(stored, "right")  # now from the cache
    assert not verifier.verify(stored, "wrong")
