"""Fixtures for the troubleshooting scenarios: a live, authenticated ``berth serve``, the real
docker CLI against a private dockerd, and the real ``berth`` CLI as subprocesses.

- ``dockerd`` (session): the private docker engine of the e2e suites (re-exported from there).
- ``stage`` (module): one server per scenario module, with authentication on (the bootstrap
  owner's password is known), a unique ``--domain <x>.localhost`` whose registry names resolve
  through temporary ``/etc/hosts`` entries, and the owner signed in with ``berth login``. Each
  scenario creates its own registry with the CLI, so faults do not interfere.

:class:`Stage` runs ``berth`` (``python -m berth``, one process per command, a private config
dir per identity) and ``docker`` (a private ``DOCKER_CONFIG`` per scenario), collects every
secret the CLI handed out, and checks that none of them shows up in an event row, the logs
CLI's output or the server log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import dockerd  # noqa: F401 - the session's private dockerd
from tests.e2e.hosts import hosts_entries
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball
from tests.support.server import BerthServer
from tests.support.server_errors import watch_server_errors

OWNER_PASSWORD = "scenario-owner-password-1"
GROUP = "scenarios"
LOCAL_IMAGE = "local/scenario:v1"
DNS_WAIT = 15.0  # dockerd re-reads /etc/hosts at most every 5 seconds


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when a berth server answered 5xx during it (tests/support/server_errors.py)."""
    yield from watch_server_errors(request)


@dataclass
class Stage:
    server: BerthServer
    domain: str
    docker_daemon: DockerDaemon
    root: Path
    secrets: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)

    # --- names ------------------------------------------------------------------------------

    @property
    def service_url(self) -> str:
        return f"http://{self.server.address}"

    def login_server(self, registry: str) -> str:
        return f"{registry.lower()}.{self.domain}:{self.server.port}"

    @property
    def owner(self) -> str:
        return f"admin@{self.domain}"

    # --- processes ----------------------------------------------------------------------------

    def config_dir(self, identity: str) -> Path:
        return self.root / "berth-config" / identity

    def docker_config(self, name: str) -> Path:
        folder = self.root / "docker-config" / name
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "config.json").exists():
            (folder / "config.json").write_text("{}")
        return folder

    def env(self, identity: str = "owner", docker_config: Path | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "DOCKER_"))}
        env.update(self.docker_daemon.env)
        env["BERTH_CONFIG_DIR"] = str(self.config_dir(identity))
        env["DOCKER_CONFIG"] = str(docker_config or self.docker_config("default"))
        env.update(extra)
        return env

    def berth(
        self,
        *args: str,
        identity: str = "owner",
        docker_config: Path | None = None,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        check: bool = True,
        timeout: float = 180.0,
    ) -> subprocess.CompletedProcess[str]:
        """``berth ARGS`` as a real CLI process; ``check`` asserts exit status 0."""
        environment = self.env(identity, docker_config, **(env or {}))
        command = [*prefix, sys.executable, "-m", "berth", *args]
        result = subprocess.run(
            command,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        self.outputs.append(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(
                f"berth {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def berth_json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.berth(*args, **kwargs).stdout)

    def docker(
        self, *args: str, docker_config: Path, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The docker CLI against the private daemon; retried while dockerd cannot resolve yet."""
        environment = {**self.env(docker_config=docker_config), **(env or {})}
        deadline = time.monotonic() + DNS_WAIT
        while True:
            result = subprocess.run(
                [self.docker_daemon.cli, *args],
                env=environment,
                capture_output=True,
                text=True,
                timeout=300,
                input=stdin,
            )
            if "no such host" not in result.stderr or time.monotonic() > deadline:
                return result
            time.sleep(1)

    def docker_ok(self, *args: str, docker_config: Path, stdin: str | None = None) -> str:
        result = self.docker(*args, docker_config=docker_config, stdin=stdin)
        assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    # --- arranging ------------------------------------------------------------------------------

    def create_registry(self, name: str, *flags: str) -> str:
        """A registry made with ``berth acr create``; returns its login server."""
        created = self.berth_json("acr", "create", "-n", name, "-g", GROUP, *flags)
        login_server = str(created["loginServer"])
        assert login_server == self.login_server(name)
        return login_server

    def remember(self, *secrets: str) -> None:
        self.secrets.update(s for s in secrets if s)

    def sign_in(
        self, identity: str, username: str, password: str, *, service_principal: bool = False
    ) -> None:
        args = ["login", "-u", username, "-p", password, "--server", self.service_url]
        self.berth(*args, *(["--service-principal"] if service_principal else []), identity=identity)

    def push_image(self, login_server: str, repository: str, docker_config: Path, tag: str = "v1") -> str:
        reference = f"{login_server}/{repository}:{tag}"
        self.docker_ok("tag", LOCAL_IMAGE, reference, docker_config=docker_config)
        self.docker_ok("push", reference, docker_config=docker_config)
        return reference

    # --- what the scenarios assert ----------------------------------------------------------

    def events(self, registry: str, kind: str = "login", **filters: str) -> list[dict[str, Any]]:
        args = ["acr", "logs", kind, "-n", registry, "-o", "json", "--top", "1000"]
        for key, value in filters.items():
            args += [f"--{key.replace('_', '-')}", value]
        rows: list[dict[str, Any]] = self.berth_json(*args)
        return rows

    def wait_events(self, registry: str, timeout: float = 10.0, **filters: str) -> list[dict[str, Any]]:
        """Failed login events matching ``filters`` (the writer flushes every quarter second)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.events(registry, status="failed", **filters)
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.3)

    def assert_no_secrets(self, registry: str) -> None:
        """No secret in any event row, in the logs CLI's output or in the server's log."""
        self.remember(*_identity_tokens(self.root / "docker-config"))
        login = self.berth("acr", "logs", "login", "-n", registry, "-o", "jsonl", "--top", "10000").stdout
        repository = self.berth(
            "acr", "logs", "repository", "-n", registry, "-o", "json", "--top", "10000"
        ).stdout
        table = self.berth("acr", "logs", "login", "-n", registry, "--top", "10000").stdout
        server_log = self.server.log()
        for secret in self.secrets:
            for name, text in (
                ("login events", login),
                ("repository events", repository),
                ("logs table", table),
            ):
                assert secret not in text, f"a secret appears in the {name} of {registry}"
            assert secret not in server_log, "a secret appears in the server log"


def _identity_tokens(folder: Path) -> list[str]:
    tokens: list[str] = []
    for config in folder.glob("*/config.json"):
        try:
            auths = json.loads(config.read_text()).get("auths") or {}
        except (OSError, ValueError):
            continue
        for entry in auths.values():
            if isinstance(entry, dict):
                tokens += [str(entry[k]) for k in ("identitytoken", "auth") if entry.get(k)]
    return tokens


def registry_names(request: pytest.FixtureRequest) -> list[str]:
    return list(getattr(request.module, "REGISTRIES", ()))


@pytest.fixture(scope="module")
def stage(
    request: pytest.FixtureRequest,
    dockerd: DockerDaemon,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stage]:
    root = tmp_path_factory.mktemp("scenario")
    domain = f"sc{uuid.uuid4().hex[:10]}.localhost"
    env = {"BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD, **getattr(request.module, "SERVER_ENV", {})}
    server = BerthServer(root / "berth", args=["--domain", domain], env=env)
    names = [domain, *(f"{name.lower()}.{domain}" for name in registry_names(request))]
    with ExitStack() as stack:
        stack.enter_context(hosts_entries(*names))
        stack.enter_context(server)
        scene = Stage(server, domain, dockerd, root)
        scene.remember(OWNER_PASSWORD)
        scene.sign_in("owner", scene.owner, OWNER_PASSWORD)
        tarball = rootfs_tarball(root / "rootfs.tar", size=4096)
        scene.docker_ok("import", str(tarball), LOCAL_IMAGE, docker_config=scene.docker_config("default"))
        for name in names:  # dockerd sees new /etc/hosts lines only after its resolver cache expires
            scene.docker(
                "pull", f"{name}:{server.port}/dns-probe:none", docker_config=scene.docker_config("default")
            )
        failed = False
        try:
            yield scene
        except BaseException:
            failed = True
            raise
        finally:
            if failed or request.session.testsfailed:
                print(f"\n===== log of berth on {server.address} =====\n{server.log()[-20000:]}")
