"""``-n`` as the registry name, its login server or a URL (what the user actually addressed)."""

from __future__ import annotations

import httpx
import pytest

from berth.cli import context
from berth.cli.acr import access, self_service
from berth.cli.acr.common import Addressed, addressed, registry_name_for


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("myreg", Addressed("myreg")),
        ("MyReg", Addressed("MyReg")),
        ("myreg.example.com:5000", Addressed("myreg", "myreg.example.com:5000")),
        ("MyReg.Example.com", Addressed("MyReg", "myreg.example.com")),
        ("http://myreg.bt1.localhost:5577", Addressed("myreg", "myreg.bt1.localhost:5577", "http")),
        ("https://myreg.example.com/v2/", Addressed("myreg", "myreg.example.com", "https")),
        # the service's bare address serves the default registry, whose name it does not tell
        ("localhost:5000", Addressed("", "localhost:5000")),
        ("LOCALHOST", Addressed("", "localhost")),
        ("127.0.0.1:5000", Addressed("", "127.0.0.1:5000")),
        ("http://127.0.0.1:5055", Addressed("", "127.0.0.1:5055", "http")),
        ("[::1]:5000", Addressed("", "[::1]:5000")),
        ("registryhost:5000", Addressed("", "registryhost:5000")),
    ],
)
def test_addressed(given: str, expected: Addressed) -> None:
    assert addressed(given) == expected


def test_a_bare_address_is_its_own_name_without_a_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoSession:
        def has_session(self) -> bool:
            return False

    monkeypatch.setattr(context, "current", NoSession)

    assert registry_name_for(addressed("localhost:5000")) == "localhost:5000"
    assert registry_name_for(addressed("myreg.example.com")) == "myreg"


@pytest.mark.parametrize(
    ("login_server", "loopback"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.8.9.10", True),
        ("[::1]:5000", True),
        ("10.0.0.1:5000", False),
        ("myreg.example.com", False),
    ],
)
def test_loopback_login_servers(login_server: str, loopback: bool) -> None:
    assert self_service._loopback(login_server) is loopback


def test_a_guessed_https_falls_back_to_http_on_loopback_as_docker_does() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.scheme)
        if request.url.scheme == "https":
            raise httpx.ConnectError("TLS handshake to a plain-HTTP port", request=request)
        return httpx.Response(200, json={})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    guessed = self_service.Plane(client, "https", "localhost:5000", may_fall_back_to_http=True)
    given = self_service.Plane(client, "https", "localhost:5000")

    assert guessed.get("identity").status_code == 200
    assert guessed.get("events").status_code == 200  # remembered: no second https attempt
    assert seen == ["https", "http", "http"]
    with pytest.raises(httpx.ConnectError):
        given.get("identity")


def test_without_a_sign_in_a_bare_address_is_the_login_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``berth acr login -n localhost:5000 --identity`` on a host with no session."""

    class NoSession:
        def has_session(self) -> bool:
            return False

    client = httpx.Client()
    monkeypatch.setattr(context, "current", NoSession)
    monkeypatch.setattr(access, "_service_without_session", lambda: (client, "https", "service.example"))

    assert access.resolve_target("localhost:5000").login_server == "localhost:5000"
    assert access.resolve_target("myreg").login_server == "myreg.service.example"
    client.close()
