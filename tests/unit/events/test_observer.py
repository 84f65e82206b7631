"""Correlation ids: unguessable, and in time order (so the event indexes on them stay in order)."""

from __future__ import annotations

import os
import time
import uuid

from berth.events.observer import new_correlation_id


def test_a_correlation_id_is_a_version_7_uuid_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    text = new_correlation_id()
    after = time.time_ns() // 1_000_000

    parsed = uuid.UUID(text)
    assert str(parsed) == text  # the canonical lower-case form ACR's headers carry
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= parsed.int >> 80 <= after


def test_correlation_ids_are_unique_and_sort_by_time() -> None:
    earlier = [new_correlation_id() for _ in range(2000)]
    time.sleep(0.002)
    later = [new_correlation_id() for _ in range(2000)]

    assert len(set(earlier + later)) == 4000
    assert max(earlier) < min(later)


def test_the_random_part_is_not_guessable() -> None:
    # 74 random bits: ids made in the same millisecond share only their time and fixed bits.
    ids = [uuid.UUID(new_correlation_id()).int for _ in range(2000)]
    random_bits = (((1 << 12) - 1) << 64) | ((1 << 62) - 1)
    randoms = {value & random_bits for value in ids}
    assert len(randoms) == 2000
    # Every random bit takes both values across the sample.
    for bit in range(74):
        position = bit if bit < 62 else bit + 2  # rand_b, then rand_a above the variant
        ones = sum(1 for value in randoms if value >> position & 1)
        assert 700 < ones < 1300, (bit, ones)


def test_a_forked_process_does_not_repeat_its_parents_random_bytes() -> None:
    new_correlation_id()  # the parent has bytes read ahead
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.close(reader)
        os.write(writer, new_correlation_id().encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        childs = pipe.read().decode()
    os.waitpid(child, 0)
    parents = new_correlation_id()

    random_bits = (((1 << 12) - 1) << 64) | ((1 << 62) - 1)
    assert uuid.UUID(childs).int & random_bits != uuid.UUID(parents).int & random_bits
