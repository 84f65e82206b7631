"""berth.sizes: the size grammar of the storage quota's settings."""

from __future__ import annotations

import pytest

from berth.sizes import format_size, parse_default_quota, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("4096", 4096),
        ("20GiB", 20 * 1024**3),
        ("20 gib", 20 * 1024**3),
        ("500MB", 500 * 1000**2),
        ("1.5TiB", 3 * 1024**4 // 2),
        ("10KiB", 10240),
        ("7B", 7),
    ],
)
def test_sizes_in_binary_and_decimal_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "GiB", "-1GiB", "20 GiBs", "1e9", "10 PiB", "9" * 30])
def test_what_is_not_a_size_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a size such as 20GiB|larger than berth can store"):
        parse_size(text)


def test_sizes_print_in_the_largest_binary_unit() -> None:
    assert format_size(0) == "0 B"
    assert format_size(1023) == "1023 B"
    assert format_size(10 * 1024**2 - 200 * 1024) == "9.8 MiB"
    assert format_size(500 * 1024**3) == "500.0 GiB"


def test_the_default_quota_is_unlimited_sku_or_a_size() -> None:
    assert parse_default_quota("Unlimited") == "unlimited"
    assert parse_default_quota("sku") == "sku"
    assert parse_default_quota("200GiB") == "200GiB"
    with pytest.raises(ValueError, match="not a size"):
        parse_default_quota("plenty")
