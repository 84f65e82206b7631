"""berth.registry.numbers: integers clients send as text, bounded without converting them all."""

from __future__ import annotations

import pytest

from berth.registry.numbers import bounded_decimal

CEILING = 2**63 - 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("000", 0),
        ("42", 42),
        ("0042", 42),
        (str(CEILING), CEILING),
        (str(CEILING + 1), CEILING),
        ("9" * 5000, CEILING),  # past Python's 4,300-digit conversion limit
        ("0" * 5000 + "7", 7),
    ],
)
def test_digits_are_read_up_to_the_ceiling(text: str, expected: int) -> None:
    assert bounded_decimal(text, CEILING) == expected


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1.0", "1e3", "0x10", "\u0663", "\u00b2", "١٢"])
def test_anything_but_ascii_digits_is_none(text: str) -> None:
    assert bounded_decimal(text, CEILING) is None
