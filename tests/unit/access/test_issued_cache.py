"""The cache of recently signed access tokens: window, valid_after, bound, keys."""

from __future__ import annotations

from typing import Any

from berth.access.issued_cache import IssuedTokens, Signed, issued_key
from berth.access.model import Identity, IdentityKind
from berth.access.tokens import TokenSubject

SUBJECT = TokenSubject(Identity(IdentityKind.SERVICE_PRINCIPAL, "app", "oid"), "oid", "tenant")
PULL: list[dict[str, Any]] = [{"type": "repository", "name": "hello", "actions": ["pull"]}]
PUSH: list[dict[str, Any]] = [{"type": "repository", "name": "hello", "actions": ["pull", "push"]}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(granted: list[dict[str, Any]] = PULL, **changes: object) -> tuple[object, ...]:
    fields: dict[str, object] = {
        "registry_id": "r1",
        "audience": "localhost:5000",
        "subject": SUBJECT,
        "granted": granted,
        "not_after": None,
        "kid": "k1",
        **changes,
    }
    return issued_key(**fields)  # type: ignore[arg-type]


def test_reused_within_the_window_then_signed_again() -> None:
    clock = Clock()
    cache = IssuedTokens(window=30, clock=clock)
    signed = Signed("t1", "j1", clock.now)
    cache.put(key(), signed)
    clock.now += 29.9
    assert cache.get(key(), valid_after=0) == signed
    clock.now += 0.1
    assert cache.get(key(), valid_after=0) is None


def test_not_reused_when_issued_before_valid_after() -> None:
    clock = Clock()
    cache = IssuedTokens(window=30, clock=clock)
    cache.put(key(), Signed("t1", "j1", clock.now))
    assert cache.get(key(), valid_after=clock.now + 1) is None
    assert cache.get(key(), valid_after=clock.now) is not None


def test_every_part_of_the_grant_is_in_the_key() -> None:
    cache = IssuedTokens(window=30, clock=Clock())
    cache.put(key(), Signed("t1", "j1", 1000.0))
    other_subject = TokenSubject(Identity(IdentityKind.SERVICE_PRINCIPAL, "app2", "oid2"), "oid2", "tenant")
    for different in (
        key(PUSH),
        key(registry_id="r2"),
        key(audience="other:5000"),
        key(subject=other_subject),
        key(not_after=2000.0),
        key(kid="k2"),
    ):
        assert cache.get(different, valid_after=0) is None
    assert cache.get(key(), valid_after=0) is not None


def test_bounded_oldest_first() -> None:
    cache = IssuedTokens(window=30, max_entries=2, clock=Clock())
    for name in ("a", "b", "c"):
        cache.put(key(registry_id=name), Signed(name, name, 1000.0))
    assert cache.get(key(registry_id="a"), valid_after=0) is None
    assert cache.get(key(registry_id="c"), valid_after=0) is not None


def test_window_zero_turns_reuse_off() -> None:
    cache = IssuedTokens(window=0, clock=Clock())
    cache.put(key(), Signed("t1", "j1", 1000.0))
    assert cache.get(key(), valid_after=0) is None
