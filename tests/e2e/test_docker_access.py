"""Every credential type logs docker in, and every failure shows docker's exact message.

A live ``berth serve`` with authentication on; access is arranged in its database
(:class:`AccessSetup`), and the real docker CLI does everything a user would: ``docker login``
(admin user, service principal, repository-scoped token, null GUID with a refresh token),
push, pull, ``docker logout`` and anonymous pull.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.access_setup import NULL_GUID, AccessSetup
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

AUTH_REQUIRED = (
    "unauthorized: authentication required, visit https://aka.ms/acr/authorization for more information."
)
NOT_REGISTERED = "unauthorized: Application not registered with AAD."
DENIED = "denied: requested access to the resource is denied"


@dataclass
class Docker:
    """The docker CLI with its own client configuration (its own stored credentials)."""

    daemon: DockerDaemon
    config: Path
    registry: str

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.daemon.env, "DOCKER_CONFIG": str(self.config)}
        return subprocess.run(
            [self.daemon.cli, *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def login(self, username: str, password: str) -> subprocess.CompletedProcess[str]:
        return self("login", self.registry, "--username", username, "--password-stdin", stdin=password)

    def stored(self) -> dict[str, str]:
        document = json.loads((self.config / "config.json").read_text())
        return dict(document["auths"][self.registry])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthServer]:
    root = tmp_path_factory.mktemp("docker-access")
    with BerthServer(root / "berth", env={"BERTH_BOOTSTRAP_PASSWORD": "owner-password-1"}) as running:
        yield running


@pytest.fixture(scope="module")
def setup(server: BerthServer) -> Iterator[AccessSetup]:
    arranged = AccessSetup.for_database(f"sqlite:///{server.data_dir / 'metadata.db'}")
    yield arranged
    arranged.close()


@pytest.fixture
def docker(dockerd: DockerDaemon, server: BerthServer, tmp_path: Path) -> Docker:
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text("{}")
    return Docker(dockerd, config, server.address)


@pytest.fixture(scope="module")
def image(dockerd: DockerDaemon, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local image (random content) to tag and push."""
    tarball = rootfs_tarball(tmp_path_factory.mktemp("image") / "rootfs.tar")
    name = f"local/access-{uuid.uuid4().hex[:8]}:v1"
    dockerd.run("import", str(tarball), name)
    return name


def push_and_pull(docker: Docker, image: str, repository: str) -> None:
    reference = f"{docker.registry}/{repository}:v1"
    docker.ok("tag", image, reference)
    docker.ok("push", reference)
    docker.ok("rmi", reference)
    docker.ok("pull", reference)


def settle() -> None:
    """Registry properties are cached for a second by the server."""
    time.sleep(1.2)


def test_admin_user(docker: Docker, setup: AccessSetup, image: str) -> None:
    password, password2 = setup.enable_admin()
    settle()
    assert docker.login("default", password).returncode == 0
    push_and_pull(docker, image, "access/admin")
    assert docker.login("default", password2).returncode == 0
    assert docker.stored()["auth"]  # docker keeps the admin's user name and password, no identity token


def test_service_principal(docker: Docker, setup: AccessSetup, image: str) -> None:
    sp = setup.service_principal("pusher", role="AcrPush")
    assert docker.login(sp.app_id, sp.secret).returncode == 0
    push_and_pull(docker, image, "access/sp")


def test_repository_scoped_token(docker: Docker, setup: AccessSetup, image: str) -> None:
    setup.scope_map(
        "team-a-map", ["repositories/team-a/app/content/read", "repositories/team-a/app/content/write"]
    )
    token = setup.token("team-a-token", "team-a-map")
    assert docker.login(token.name, token.password1).returncode == 0
    push_and_pull(docker, image, "team-a/app")
    other = f"{docker.registry}/team-b/app:v1"
    docker.ok("tag", image, other)
    refused = docker("push", other)
    assert refused.returncode != 0
    assert DENIED in refused.stderr, refused.stderr


def test_null_guid_with_a_refresh_token(
    docker: Docker, server: BerthServer, setup: AccessSetup, image: str
) -> None:
    sp = setup.service_principal("exchanger", role="AcrPush")
    with httpx.Client(base_url=server.url) as client:
        directory = client.post(
            f"/{sp.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sp.app_id,
                "client_secret": sp.secret,
                "scope": "https://containerregistry.azure.net/.default",
            },
        )
        refresh = client.post(
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": server.address,
                "access_token": directory.json()["access_token"],
            },
        ).json()["refresh_token"]
    assert docker.login(NULL_GUID, refresh).returncode == 0
    stored = docker.stored()
    assert stored["identitytoken"]  # docker renews access through the refresh grant from now on
    push_and_pull(docker, image, "access/exchanged")


def test_anonymous_pull_and_stale_credentials(docker: Docker, setup: AccessSetup, image: str) -> None:
    password, _ = setup.enable_admin()
    setup.set_anonymous_pull(True)
    settle()
    assert docker.login("default", password).returncode == 0
    reference = f"{docker.registry}/access/public:v1"
    docker.ok("tag", image, reference)
    docker.ok("push", reference)
    docker.ok("rmi", reference)
    docker.ok("logout", docker.registry)
    docker.ok("pull", reference)  # anonymous
    docker.ok("rmi", reference)

    assert docker.login("default", password).returncode == 0
    setup.enable_admin()  # new passwords: the ones docker stored are stale now
    stale = docker("pull", reference)
    assert stale.returncode != 0
    assert AUTH_REQUIRED in stale.stderr, stale.stderr
    docker.ok("logout", docker.registry)
    docker.ok("pull", reference)  # the seed's fix: docker logout, then pull anonymously
    setup.set_anonymous_pull(False)


def test_wrong_admin_password(docker: Docker, setup: AccessSetup) -> None:
    setup.enable_admin()
    settle()
    refused = docker.login("default", "not-the-password")
    assert refused.returncode != 0
    assert AUTH_REQUIRED in refused.stderr, refused.stderr


def test_unknown_user(docker: Docker) -> None:
    refused = docker.login(str(uuid.uuid4()), "whatever")
    assert NOT_REGISTERED in refused.stderr, refused.stderr
    refused = docker.login("not-a-token-or-registry", "whatever")
    assert NOT_REGISTERED in refused.stderr, refused.stderr


def test_expired_service_principal_secret(docker: Docker, setup: AccessSetup) -> None:
    sp = setup.service_principal("expiring", role="AcrPull")
    setup.expire_secret(sp)
    refused = docker.login(sp.app_id, sp.secret)
    assert AUTH_REQUIRED in refused.stderr, refused.stderr


def test_expired_token_password(docker: Docker, setup: AccessSetup) -> None:
    token = setup.token("expired-token", "_repositories_pull")
    setup.set_token_password_expiry(token, "password1", time.time() - 60)
    refused = docker.login(token.name, token.password1)
    assert AUTH_REQUIRED in refused.stderr, refused.stderr
    assert docker.login(token.name, token.password2).returncode == 0  # the other password still works


def test_disabled_token(docker: Docker, setup: AccessSetup) -> None:
    token = setup.token("disabled-token", "_repositories_pull")
    setup.set_token_enabled(token, False)
    refused = docker.login(token.name, token.password1)
    assert AUTH_REQUIRED in refused.stderr, refused.stderr


def test_missing_role_for_push(docker: Docker, setup: AccessSetup, image: str) -> None:
    sp = setup.service_principal("puller", role="AcrPull")
    assert docker.login(sp.app_id, sp.secret).returncode == 0
    reference = f"{docker.registry}/access/pull-only:v1"
    docker.ok("tag", image, reference)
    refused = docker("push", reference)
    assert DENIED in refused.stderr, refused.stderr


def test_firewall(docker: Docker, setup: AccessSetup) -> None:
    password, _ = setup.enable_admin()
    setup.set_network_rules(default_action="Deny", allow=("203.0.113.7",))
    settle()
    try:
        refused = docker.login("default", password)
        assert refused.returncode != 0
        assert "403 Forbidden" in refused.stderr, refused.stderr
    finally:
        setup.set_network_rules()
        settle()
    assert docker.login("default", password).returncode == 0


def test_rate_limit(dockerd: DockerDaemon, tmp_path: Path) -> None:
    env = {"BERTH_BOOTSTRAP_PASSWORD": "owner-password-1", "BERTH_AUTH_FAILURES_PER_IDENTITY": "3"}
    with BerthServer(tmp_path / "limited", env=env) as limited:
        config = tmp_path / "config"
        config.mkdir()
        (config / "config.json").write_text("{}")
        docker = Docker(dockerd, config, limited.address)
        outputs = [docker.login("default", "wrong-password").stderr for _ in range(4)]
        assert AUTH_REQUIRED in outputs[0], outputs
        assert "toomanyrequests" in outputs[-1].lower(), outputs
