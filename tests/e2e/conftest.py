"""Fixtures for the real-client suites.

- ``dockerd`` (session): a private docker engine; see :mod:`tests.support.dockerd`.
- ``berth_server``: a ``berth serve`` process on a free loopback port with an empty data
  directory. ``make_berth_server`` builds more servers: ``extra_args`` add to the default
  flags, ``args`` replace them, ``env`` adds variables. All are stopped at the end of the
  test, and a failing test prints the server's log.
- ``http``: an httpx client for ``berth_server``'s registry API.
- ``no_server_errors`` (autouse): fails a test during which a server answered 5xx.
- ``skopeo`` and ``podman``: the CLI runners with private state.

Every server here runs with ``--insecure-no-auth`` until authentication lands (issue 3); suites
that need other settings pass ``args``/``env`` to ``make_berth_server``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import Podman, Skopeo
from tests.e2e.endpoints import Endpoint, serve_endpoints
from tests.support.dockerd import DockerDaemon, docker_daemon
from tests.support.server import BerthServer
from tests.support.server_errors import watch_server_errors

E2E_SERVER_ARGS: tuple[str, ...] = ("--insecure-no-auth",)

ServerFactory = Callable[..., BerthServer]

_failed = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when a berth server answered 5xx during it (tests/support/server_errors.py)."""
    yield from watch_server_errors(request)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_failed] = True
    return report


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Endpoint]]:
    """berth over HTTP and HTTPS with auth on, an admin user and a service principal each."""
    with serve_endpoints(tmp_path_factory.mktemp("endpoints")) as served:
        yield served


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerDaemon]:
    with docker_daemon() as daemon:
        yield daemon


@pytest.fixture
def make_berth_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerFactory]:
    servers: list[BerthServer] = []

    def make(
        name: str = "berth",
        *,
        args: Sequence[str] = E2E_SERVER_ARGS,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        database_url: str | None = None,
        start: bool = True,
    ) -> BerthServer:
        server = BerthServer(tmp_path / name, database_url=database_url, args=[*args, *extra_args], env=env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.close()
        if request.node.stash.get(_failed, False):
            print(f"\n===== log of berth on {server.address} ({server.log_path}) =====\n{server.log()}")


@pytest.fixture
def berth_server(make_berth_server: ServerFactory) -> BerthServer:
    return make_berth_server()


@pytest.fixture
def http(berth_server: BerthServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=berth_server.url, timeout=30.0, trust_env=False) as client:
        yield client


@pytest.fixture
def skopeo(tmp_path: Path) -> Skopeo:
    home = tmp_path / "skopeo"
    home.mkdir()
    return Skopeo(home)


@pytest.fixture
def podman() -> Iterator[Podman]:
    # Not under tmp_path: podman refuses a --runroot longer than 50 characters.
    home = Path(tempfile.mkdtemp(prefix="pm-", dir="/tmp"))
    yield Podman(home)
    shutil.rmtree(home, ignore_errors=True)
