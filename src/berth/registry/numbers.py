"""Integers that clients send as text (query parameters, ``Content-Length``, ``Range``)."""

from __future__ import annotations


def bounded_decimal(text: str, ceiling: int) -> int | None:
    """ASCII digits as an int, at most ``ceiling``; None when ``text`` is not such digits.

    Any number of digits is accepted without converting them all (Python refuses to convert
    more than 4,300 digits, and no database stores what does not fit in 64 bits).
    """
    if not text or not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0")
    if len(significant) > len(str(ceiling)):
        return ceiling
    return min(int(significant or "0"), ceiling)
