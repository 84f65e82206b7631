"""berth.registry.clients: the client's IP and scheme, trusting X-Forwarded-* only from proxies."""

from __future__ import annotations

from typing import Any

import pytest

from berth.registry.clients import client_ip, parse_networks, scheme

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8", "192.168.1.1"])


def scope(peer: str | None, **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "http",
        "client": (peer, 41000) if peer is not None else None,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_parse_networks_accepts_addresses_and_cidrs() -> None:
    networks = parse_networks(["10.1.2.3/8", "::1"])

    assert [str(n) for n in networks] == ["10.0.0.0/8", "::1/128"]


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_ip(scope("10.0.0.5", x_forwarded_for="203.0.113.9"), ()) == "10.0.0.5"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_ip(scope("203.0.113.50", x_forwarded_for="1.2.3.4"), PROXIES) == "203.0.113.50"


def test_trusted_proxy_passes_on_the_client() -> None:
    assert client_ip(scope("10.0.0.5", x_forwarded_for="203.0.113.9"), PROXIES) == "203.0.113.9"


def test_the_nearest_untrusted_hop_wins_over_spoofed_entries() -> None:
    """A client can put anything at the front of X-Forwarded-For; only hops added by proxies count."""
    forwarded = "6.6.6.6, 203.0.113.9, 10.9.9.9"

    assert client_ip(scope("10.0.0.5", x_forwarded_for=forwarded), PROXIES) == "203.0.113.9"


def test_all_hops_trusted_gives_the_first() -> None:
    assert client_ip(scope("10.0.0.5", x_forwarded_for="192.168.1.1, 10.2.2.2"), PROXIES) == "192.168.1.1"


def test_trusted_proxy_without_forwarded_for_is_itself_the_client() -> None:
    assert client_ip(scope("10.0.0.5"), PROXIES) == "10.0.0.5"
    assert client_ip(scope("10.0.0.5", x_forwarded_for=" , "), PROXIES) == "10.0.0.5"


def test_ipv6_proxies() -> None:
    assert client_ip(scope("fd00::1", x_forwarded_for="2001:db8::7"), PROXIES) == "2001:db8::7"
    assert client_ip(scope("2001:db8::1", x_forwarded_for="2001:db8::7"), PROXIES) == "2001:db8::1"


def test_garbage_hops_are_not_trusted() -> None:
    assert client_ip(scope("10.0.0.5", x_forwarded_for="203.0.113.9, not-an-ip"), PROXIES) == "not-an-ip"


def test_a_peer_that_is_not_an_ip_is_not_trusted() -> None:
    assert client_ip(scope("unix-socket", x_forwarded_for="1.2.3.4"), PROXIES) == "unix-socket"


def test_missing_peer_gives_a_placeholder() -> None:
    assert client_ip(scope(None), PROXIES) == "0.0.0.0"


@pytest.mark.parametrize(
    ("peer", "forwarded_proto", "expected"),
    [
        ("10.0.0.5", "https", "https"),
        ("10.0.0.5", "http", "http"),
        ("10.0.0.5", "gopher", "http"),
        ("203.0.113.50", "https", "http"),
        ("10.0.0.5", None, "http"),
    ],
)
def test_scheme_trusts_forwarded_proto_only_from_proxies(
    peer: str, forwarded_proto: str | None, expected: str
) -> None:
    headers = {"x_forwarded_proto": forwarded_proto} if forwarded_proto else {}

    assert scheme(scope(peer, **headers), PROXIES) == expected


def test_scheme_without_proxies_is_the_connection_scheme() -> None:
    tls = {**scope("10.0.0.5", x_forwarded_proto="http"), "scheme": "https"}

    assert scheme(tls, ()) == "https"
    assert scheme(tls, PROXIES) == "http"


def test_other_forwarding_headers_are_never_read() -> None:
    spoofed = scope("10.0.0.5", forwarded="for=203.0.113.9", x_real_ip="203.0.113.9")

    assert client_ip(spoofed, PROXIES) == "10.0.0.5"
    assert client_ip(spoofed, ()) == "10.0.0.5"


def test_a_second_forwarded_for_line_from_the_proxy_is_the_rightmost() -> None:
    """A proxy may add its own X-Forwarded-For line after the client's instead of appending."""
    two_lines = scope("10.0.0.5")
    two_lines["headers"] = [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-for", b"198.51.100.4")]

    assert client_ip(two_lines, PROXIES) == "198.51.100.4"
