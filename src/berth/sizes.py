"""Sizes as people write them (``20GiB``, ``500 MB``, ``1073741824``) and as berth prints them.

Binary units (KiB, MiB, GiB, TiB) are powers of 1024 and decimal ones (KB, MB, GB, TB) powers of
1000, as ACR's and Azure's storage figures are; a bare number is bytes. The storage quota's
settings (``default_storage_quota``, ``berth acr update --storage-quota``) use this grammar.
"""

from __future__ import annotations

import re

GIB = 1024**3
UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
# The largest size berth stores (a signed 64-bit integer in both databases).
LARGEST = 2**63 - 1

# The values of a quota setting that are not sizes.
UNLIMITED = "unlimited"
SKU = "sku"
DEFAULT = "default"


def parse_size(text: str) -> int:
    """Bytes for ``20GiB``, ``1.5 TB``, ``4096``; ValueError naming the accepted forms otherwise."""
    found = _SIZE.match(text)
    unit = found.group(2).lower() if found else ""
    if found is None or unit not in UNITS:
        raise ValueError(f"{text!r} is not a size such as 20GiB, 500MB or a number of bytes")
    value = round(float(found.group(1)) * UNITS[unit])
    if value > LARGEST:
        raise ValueError(f"{text!r} is larger than berth can store")
    return value


def format_size(size: int) -> str:
    """``9.5 MiB``: the largest binary unit that keeps the number at least 1, one decimal."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        scale = UNITS[unit.lower()]
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def parse_default_quota(text: str) -> str:
    """The ``default_storage_quota`` setting: ``unlimited``, ``sku`` or a size (returned as given)."""
    if text.strip().lower() in (UNLIMITED, SKU):
        return text.strip().lower()
    parse_size(text)
    return text.strip()
