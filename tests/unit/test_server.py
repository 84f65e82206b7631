"""berth.server: how one process listens. An IP literal is bound by berth and read by the batch
acceptor (uvloop's own server accepted one connection per turn of the loop, and a burst of new
connections waited seconds under load); a host name is left to uvicorn."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from berth import server
from berth.config import Settings


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[socket.socket] | None]]:
    """What ``serve`` hands to uvicorn, without starting it; the signal handlers it installs are
    put back afterwards."""
    given: list[list[socket.socket] | None] = []

    def run_uvicorn(_settings: Settings, _app: Any, sockets: list[socket.socket] | None = None) -> bool:
        given.append(sockets)
        return True

    monkeypatch.setattr(server, "run_uvicorn", run_uvicorn)
    monkeypatch.setattr(server, "build_app", lambda _settings: object())
    monkeypatch.setattr(server, "configure_logging", lambda _settings: None)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield given
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _settings(tmp_path: Path, listen: str) -> Settings:
    return replace(Settings(), listen=listen, data_dir=tmp_path, workers=1)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_one_process_on_an_ip_literal_listens_on_a_socket_of_its_own(
    tmp_path: Path, captured: list[list[socket.socket] | None], host: str
) -> None:
    address = f"[{host}]:0" if ":" in host else f"{host}:0"
    server.serve(_settings(tmp_path, address))
    (sockets,) = captured
    assert sockets is not None
    assert len(sockets) == 1
    with sockets[0] as sock:
        assert sock.getsockname()[0] == host
        assert not sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)  # not shareable
        with socket.create_connection(sock.getsockname()[:2]):  # it listens already
            pass


def test_a_host_name_is_left_to_uvicorn(tmp_path: Path, captured: list[list[socket.socket] | None]) -> None:
    server.serve(_settings(tmp_path, "localhost:0"))
    assert captured == [None]


def test_an_address_taken_meanwhile_exits_with_a_message(
    tmp_path: Path, captured: list[list[socket.socket] | None], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            server.serve(_settings(tmp_path, f"127.0.0.1:{port}"))
    assert exited.value.code == 1
    assert f"could not listen on 127.0.0.1:{port}: Address already in use" in caplog.text
    assert captured == []
