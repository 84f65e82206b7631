"""How the portal writes sizes and times."""

from __future__ import annotations

from berth.portal.pages import size, when


def test_sizes_in_binary_units() -> None:
    assert size(None) == "0 B"
    assert size(734) == "734 B"
    assert size(1536) == "1.5 KiB"
    assert size(500 * 1024**3) == "500.0 GiB"
    assert size(3 * 1024**4) == "3.0 TiB"


def test_times_in_utc() -> None:
    assert when(0) == ""
    assert when(1_800_000_000) == "2027-01-15 08:00:00 UTC"
