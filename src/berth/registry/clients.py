"""Who is on the other end: client IP (through trusted proxies) and the scheme they used."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def _header(scope: Scope, name: bytes) -> str | None:
    """All values of a header, joined with commas in order (a proxy may add its own line)."""
    values = [str(value.decode("latin-1")) for key, value in scope.get("headers", []) if key == name]
    return ", ".join(values) if values else None


def client_ip(scope: Scope, proxies: tuple[Network, ...]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind a trusted proxy.

    Only the peer's own address is believed unless it is a trusted proxy; ``Forwarded`` and
    ``X-Real-IP`` are never read (docs/security.md, section edge).
    """
    client = scope.get("client")
    peer = client[0] if client else "0.0.0.0"  # noqa: S104 - a placeholder, never bound
    if not proxies or not _trusted(peer, proxies):
        return str(peer)
    forwarded = _header(scope, b"x-forwarded-for")
    if not forwarded:
        return str(peer)
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else str(peer)


def scheme(scope: Scope, proxies: tuple[Network, ...]) -> str:
    client = scope.get("client")
    if proxies and client and _trusted(client[0], proxies):
        forwarded = _header(scope, b"x-forwarded-proto")
        if forwarded in ("http", "https"):
            return forwarded
    return str(scope.get("scheme", "http"))
