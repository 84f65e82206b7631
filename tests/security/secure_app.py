"""berth in-process with authentication ON, for the security suites that need no subprocess.

Each suite declares its own small fixtures from these helpers (the security suites are
written by several people at once; no shared conftest to collide on):

- :func:`secure_settings`: secure settings on a data directory and a database URL;
- :func:`clients_of`: TestClients of an app by peer IP (the first one runs startup);
- :func:`cheap_hasher`: light argon2 parameters for suites that hash many secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from berth.app import BerthApp
from berth.config import Settings, load_settings
from tests.api.access.wire import BASE_URL, TestClient

BOOTSTRAP_PASSWORD = "bootstrap-Passw0rd"


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def secure_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values = {
        "data_dir": data_dir,
        "database_url": database_url,
        "bootstrap_password": BOOTSTRAP_PASSWORD,
        **overrides,
    }
    return load_settings(overrides=values, environ={})


@contextmanager
def clients_of(app: BerthApp) -> Iterator[Callable[[str], TestClient]]:
    with ExitStack() as stack:
        made: dict[str, TestClient] = {}

        def client_for(ip: str) -> TestClient:
            if ip not in made:
                made[ip] = stack.enter_context(TestClient(app, base_url=BASE_URL, client=(ip, 50000)))
            return made[ip]

        yield client_for
