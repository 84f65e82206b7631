"""Fixtures for the CLI's unit tests: a private config dir, a signed-in session whose HTTP goes
to an in-process handler, and :func:`cli` to run one command line and capture its output."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from berth.cli import account, context, run
from berth.cli.client import session as session_file
from berth.cli.client.directory import MANAGEMENT
from berth.cli.client.session import USER, CachedToken, Session

Handler = Callable[[httpx.Request], httpx.Response]

SERVER = "http://berth.test:5000"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "config"
    monkeypatch.setenv("BERTH_CONFIG_DIR", str(folder))
    for variable in ("BERTH_SERVER", "BERTH_OUTPUT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(variable, raising=False)
    yield folder
    context.use(None)


def make_session() -> Session:
    return Session(
        server=SERVER,
        tenant_id=TENANT,
        token_endpoint=f"{SERVER}/{TENANT}/oauth2/v2.0/token",
        issuer=f"{SERVER}/{TENANT}/v2.0",
        subscription_id=SUBSCRIPTION,
        user_name="admin@berth.test",
        user_type=USER,
        refresh_token="directory-refresh-token",
        tokens={MANAGEMENT: CachedToken("management-token", time.time() + 3600)},
    )


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], None]:
    """Send every HTTP request the CLI makes to ``handler`` (no network)."""

    def install(handler: Handler) -> None:
        def client(ca_cert: str | None = None) -> httpx.Client:
            return httpx.Client(transport=httpx.MockTransport(handler))

        monkeypatch.setattr(context, "new_client", client)
        monkeypatch.setattr(account, "new_client", client)

    return install


@pytest.fixture
def signed_in(config_dir: Path, route: Callable[[Handler], None]) -> Callable[[Handler], None]:
    """Save a session and route every HTTP request to ``handler``."""

    def install(handler: Handler) -> None:
        session_file.save(make_session())
        route(handler)

    return install


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    def invoke(*args: str) -> Outcome:
        code = run(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke
