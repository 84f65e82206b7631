"""Forwarded headers over real HTTP: a ``berth serve`` subprocess, a client on 127.0.0.1.

``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP`` and ``X-Forwarded-Proto`` count only when the
peer is one of ``trusted_proxies``; then the right-most untrusted hop of ``X-Forwarded-For`` is
the client. Network rules, the events' caller IP and the per-address brute-force limit all
use that address (finding 4 of issue 8: uvicorn's own proxy-headers middleware trusted
127.0.0.1 by default and rewrote the peer before berth saw it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from berth.metadata.events_schema import login_events
from tests.support.access_setup import AccessSetup
from tests.support.server import BerthServer

ALLOWED = "203.0.113.7"
SPOOFS: tuple[dict[str, str], ...] = (
    {"X-Forwarded-For": ALLOWED},
    {"X-Forwarded-For": f"{ALLOWED}, {ALLOWED}"},
    {"Forwarded": f"for={ALLOWED}"},
    {"X-Real-IP": ALLOWED},
    {"X-Forwarded-For": ALLOWED, "X-Forwarded-Proto": "https", "Forwarded": f"for={ALLOWED};proto=https"},
)


def _server(tmp_path: Path, database_url: str, env: Mapping[str, str]) -> BerthServer:
    # One worker: these tests count failures per address and expect the limit at the very next
    # request; across workers a failure reaches the others a few ms later (tests/e2e/test_replicas.py).
    return BerthServer(tmp_path / "berth", database_url=database_url, env=env, args=["--workers", "1"])


@pytest.fixture
def setup(database_url: str) -> Iterator[AccessSetup]:
    prepared = AccessSetup.for_database(database_url)
    yield prepared
    prepared.close()


@pytest.fixture
def untrusting(tmp_path: Path, database_url: str, setup: AccessSetup) -> Iterator[BerthServer]:
    """berth with no trusted proxies, a network rule allowing only ``ALLOWED``, a low per-IP limit."""
    setup.set_network_rules(default_action="Deny", allow=(ALLOWED,))
    env = {"BERTH_AUTH_FAILURES_PER_IP": "3", "BERTH_AUTH_FAILURES_PER_IDENTITY": "100"}
    with _server(tmp_path, database_url, env) as server:
        yield server


@pytest.fixture
def behind_proxy(tmp_path: Path, database_url: str, setup: AccessSetup) -> Iterator[BerthServer]:
    """berth behind a proxy on 127.0.0.1 (trusted), with the same network rule."""
    setup.set_network_rules(default_action="Deny", allow=(ALLOWED,))
    with _server(tmp_path, database_url, {"BERTH_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        yield server


def _get(server: BerthServer, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30.0, trust_env=False) as client:
        return client.get(path, headers=dict(headers or {}))


@pytest.mark.parametrize("headers", SPOOFS, ids=lambda h: "+".join(h))
def test_without_trusted_proxies_forwarding_headers_do_not_pass_a_network_rule(
    untrusting: BerthServer, headers: dict[str, str]
) -> None:
    for path in ("/v2/", "/oauth2/token?service=127.0.0.1&scope=registry:catalog:*"):
        response = _get(untrusting, path, headers)

        assert response.status_code == 403, (path, response.text)
        assert "client with IP '127.0.0.1' is not allowed access" in response.text


def test_without_trusted_proxies_events_record_the_peer(
    tmp_path: Path, database_url: str, setup: AccessSetup
) -> None:
    with _server(tmp_path, database_url, {}) as server:
        response = _get(
            server,
            "/oauth2/token?service=127.0.0.1",
            {"X-Forwarded-For": ALLOWED, "Authorization": "Basic c29tZW9uZTp3cm9uZw=="},  # someone:wrong
        )
        assert response.status_code == 401
        challenge = _get(server, "/v2/", {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"})
        assert challenge.headers["Www-Authenticate"].startswith('Bearer realm="http://'), challenge.headers
        server.stop()
    with setup.db.engine.connect() as conn:
        ips = conn.execute(select(login_events.c.caller_ip)).scalars().all()
    assert ips == ["127.0.0.1"]


def test_without_trusted_proxies_a_new_forwarded_address_does_not_reset_the_per_ip_limit(
    untrusting: BerthServer, setup: AccessSetup
) -> None:
    # Let every caller through the firewall: this test is about the brute-force limit alone.
    setup.set_network_rules()
    deadline = time.monotonic() + 30
    while _get(untrusting, "/v2/").status_code == 403:  # the server re-reads registries within seconds
        assert time.monotonic() < deadline, "the server did not pick up the new network rules"
        time.sleep(0.2)
    for i in range(3):
        spoofed = {"X-Forwarded-For": f"198.51.100.{i + 1}", "X-Real-IP": f"198.51.100.{i + 1}"}
        wrong = httpx.BasicAuth(f"guess-{i}", "wrong")
        with httpx.Client(base_url=untrusting.url, timeout=30.0, trust_env=False, auth=wrong) as client:
            assert client.get("/oauth2/token?service=127.0.0.1", headers=spoofed).status_code == 401

    fresh = {"X-Forwarded-For": "198.51.100.99", "X-Real-IP": "198.51.100.99"}
    with httpx.Client(
        base_url=untrusting.url, timeout=30.0, trust_env=False, auth=httpx.BasicAuth("guess-new", "x")
    ) as client:
        response = client.get("/oauth2/token?service=127.0.0.1", headers=fresh)

    assert response.status_code == 429, response.text


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(behind_proxy: BerthServer) -> None:
    # The proxy appended the address it saw (ALLOWED); whatever the client sent before it is ignored.
    assert _get(behind_proxy, "/v2/", {"X-Forwarded-For": f"6.6.6.6, {ALLOWED}"}).status_code == 401
    assert _get(behind_proxy, "/v2/", {"X-Forwarded-For": ALLOWED}).status_code == 401
    # A client that puts the allowed address first does not get through.
    denied = _get(behind_proxy, "/v2/", {"X-Forwarded-For": f"{ALLOWED}, 6.6.6.6"})
    assert denied.status_code == 403
    assert "client with IP '6.6.6.6'" in denied.text
    # Only X-Forwarded-For is read, even from a trusted proxy.
    assert _get(behind_proxy, "/v2/", {"Forwarded": f"for={ALLOWED}"}).status_code == 403
    assert _get(behind_proxy, "/v2/", {"X-Real-IP": ALLOWED}).status_code == 403
