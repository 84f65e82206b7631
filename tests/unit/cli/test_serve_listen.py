"""``berth serve`` on a taken address: a message naming the holder, nothing created."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.cli.listen_check import address_in_use, holder_of


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_listening_port_is_in_use_and_its_holder_is_this_process(taken: int) -> None:
    assert address_in_use("127.0.0.1", taken)
    holder = holder_of(taken)
    assert holder is not None
    assert holder.endswith(f"(pid {os.getpid()})")
    assert "python" in holder


def test_a_free_port_is_not_in_use() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not address_in_use("127.0.0.1", port)
    assert holder_of(port) is None


def test_serve_on_a_taken_port_says_who_holds_it_before_creating_the_owner(
    taken: int, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "berth",
            "serve",
            "--listen",
            f"127.0.0.1:{taken}",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("BERTH_")},
    )

    assert result.returncode == 2
    assert f"127.0.0.1:{taken} is already in use by " in result.stderr
    assert f"(pid {os.getpid()})" in result.stderr
    assert f"--listen 127.0.0.1:{taken + 1}" in result.stderr
    assert "password" not in result.stderr
    assert not (data_dir / "metadata.db").exists()
