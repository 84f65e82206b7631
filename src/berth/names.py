"""Names berth accepts on the wire: registries, repositories, tags and digests.

Repository and tag grammars are the OCI distribution spec's; registry names follow ACR
(5-50 letters and digits, login server lower-cased).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGISTRY_NAME = re.compile(r"^[A-Za-z0-9]{5,50}$")
REPOSITORY_NAME = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
MAX_REPOSITORY_LENGTH = 255

_DIGEST = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<encoded>[a-zA-Z0-9=_-]+)$")
_HEX_LENGTHS = {"sha256": 64, "sha512": 128}


class InvalidName(ValueError):
    """A name that does not follow its grammar; the message says which rule it broke."""


def check_registry_name(name: str) -> str:
    if not REGISTRY_NAME.fullmatch(name):
        raise InvalidName(f"registry name {name!r} is invalid: use 5 to 50 letters and digits only")
    return name


def is_repository_name(name: str) -> bool:
    return len(name) <= MAX_REPOSITORY_LENGTH and REPOSITORY_NAME.fullmatch(name) is not None


def is_tag(reference: str) -> bool:
    return TAG.fullmatch(reference) is not None


@dataclass(frozen=True, slots=True)
class Digest:
    """A content digest such as ``sha256:<64 hex>``; only algorithms berth can verify."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        match = _DIGEST.fullmatch(text)
        if match is None:
            raise InvalidName(f"digest {text!r} is not of the form <algorithm>:<hex>")
        algorithm, encoded = match["algorithm"], match["encoded"]
        length = _HEX_LENGTHS.get(algorithm)
        if length is None:
            raise InvalidName(f"digest algorithm {algorithm!r} is not supported (use sha256 or sha512)")
        if len(encoded) != length or not all(c in "0123456789abcdef" for c in encoded):
            raise InvalidName(f"digest {text!r} must have {length} lower-case hex characters")
        return cls(algorithm, encoded)

    @classmethod
    def looks_like(cls, reference: str) -> bool:
        """True when a manifest reference is meant as a digest rather than a tag."""
        return ":" in reference
