"""berth.access.secrets: the dummy verification that hides whether a name exists."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.access.secrets import SecretVerifier, generate, hash_secret


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
