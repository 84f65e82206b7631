"""berth.registry.handlers.blobs.byte_range: one ``Range: bytes=a-b`` against a blob's size."""

from __future__ import annotations

import pytest

from berth.errors import WireError
from berth.registry.handlers.blobs import byte_range

HUGE = "9" * 5000  # more digits than Python converts to an int


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 10)),
        ("bytes=2-", (2, 8)),
        ("bytes=-3", (7, 3)),
        (f"bytes=0-{HUGE}", (0, 10)),
        (f"bytes=-{HUGE}", (0, 10)),
        (f"bytes=0-{2**64}", (0, 10)),
        ("bytes=\u0663-", None),  # not an HTTP digit: ignored like any unparsable range
        ("bytes=\u00b2-", None),
    ],
)
def test_ranges_of_a_ten_byte_blob(header: str, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 10) == expected


@pytest.mark.parametrize("header", [f"bytes={HUGE}-", f"bytes={2**63}-{2**64}", "bytes=10-"])
def test_a_start_past_the_end_is_416(header: str) -> None:
    with pytest.raises(WireError) as raised:
        byte_range(header, 10)

    assert raised.value.http_status == 416
    assert raised.value.headers == {"Content-Range": "bytes */10"}
    assert len(raised.value.text) < 200
