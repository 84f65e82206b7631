"""The ``berth`` CLI end to end: the real command (a subprocess) against a live ``berth serve``
with authentication on, and a real dockerd.

One server serves the module, with its own ``--domain`` so every registry has a Host-routed
login server ``<name>.<domain>:PORT``; the names are put in ``/etc/hosts`` up front (dockerd's
resolver re-reads that file only every few seconds, so docker calls retry "no such host").
Each test signs in with its own config dir and gives docker its own ``DOCKER_CONFIG``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.hosts import hosts_entries
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

PASSWORD = "Owner-pass-" + uuid.uuid4().hex[:12]
OWNER = "admin@{domain}"
NULL_GUID = "00000000-0000-0000-0000-000000000000"
SUFFIX = uuid.uuid4().hex[:8]
REGISTRIES = ("admin", "login", "expose", "sp", "token", "net", "repo", "tls", "podman")
NAMES = {key: f"cli{key}{SUFFIX}" for key in REGISTRIES}


@dataclass(frozen=True)
class Service:
    server: BerthServer
    domain: str

    def login_server(self, registry: str) -> str:
        return f"{registry.lower()}.{self.domain}:{self.server.port}"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    domain = f"cli{SUFFIX}.localhost"
    root = tmp_path_factory.mktemp("cli-server")
    server = BerthServer(
        root / "berth", args=["--domain", domain], env={"BERTH_BOOTSTRAP_PASSWORD": PASSWORD}
    )
    hosts = [domain, *(f"{name}.{domain}" for name in NAMES.values())]
    with hosts_entries(*hosts), server:
        yield Service(server, domain)


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def _berth_command() -> list[str]:
    script = Path(sys.executable).with_name("berth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "berth"]


class Cli:
    """The ``berth`` command with a private config dir, and docker with a private config."""

    def __init__(self, service: Service, dockerd: DockerDaemon, home: Path) -> None:
        self.service = service
        self.dockerd = dockerd
        self.config = home / "berth"
        self.docker_config = home / "docker"
        self.docker_config.mkdir(parents=True, exist_ok=True)
        (self.docker_config / "config.json").write_text("{}")
        env = {k: v for k, v in dockerd.env.items() if not k.startswith("BERTH_")}
        env.update(
            BERTH_CONFIG_DIR=str(self.config),
            DOCKER_CONFIG=str(self.docker_config),
            DOCKER_COMMAND=dockerd.cli,
        )
        self.env = env

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Result:
        completed = subprocess.run(
            [*_berth_command(), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=180,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        if check and result.code != 0:
            tail = "\n".join(self.service.server.log().splitlines()[-25:])
            raise AssertionError(
                f"berth {' '.join(args)} exited {result.code}:\n{result.stdout}{result.stderr}\n"
                f"--- server log\n{tail}"
            )
        return result

    def json(self, *args: str) -> Any:
        return self.run(*args).json()

    def login_owner(self) -> Any:
        owner = OWNER.format(domain=self.service.domain)
        return self.json("login", "-u", owner, "-p", PASSWORD, "--server", self.service.server.url)

    def docker(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """docker with this CLI's config, retrying while dockerd cannot resolve the new names yet."""
        deadline = time.monotonic() + 20
        while True:
            result = subprocess.run(
                [self.dockerd.cli, *args],
                env={**self.dockerd.env, "DOCKER_CONFIG": str(self.docker_config)},
                input=stdin,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if "no such host" in result.stderr and time.monotonic() < deadline:
                time.sleep(1)
                continue
            if check and result.returncode != 0:
                raise AssertionError(
                    f"docker {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
                )
            return result

    def docker_auths(self) -> dict[str, Any]:
        return dict(json.loads((self.docker_config / "config.json").read_text()).get("auths", {}))

    def import_image(self, tmp_path: Path, reference: str) -> str:
        tarball = rootfs_tarball(tmp_path / f"rootfs-{uuid.uuid4().hex[:6]}.tar")
        return self.docker("import", str(tarball), reference).stdout.strip()


@pytest.fixture
def owner(service: Service, dockerd: DockerDaemon, tmp_path: Path) -> Cli:
    cli = Cli(service, dockerd, tmp_path / "owner")
    cli.login_owner()
    return cli


def _digest(output: str) -> str:
    found = re.search(r"digest: (sha256:[0-9a-f]{64})", output)
    assert found, output
    return found.group(1)


def _warnings(stderr: str) -> list[str]:
    return [line.removeprefix("WARNING: ") for line in stderr.splitlines() if line.startswith("WARNING: ")]


def _single_error(result: Result) -> str:
    assert result.code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR: "), result.stderr
    return lines[0].removeprefix("ERROR: ")


def test_login_account_show_and_logout(service: Service, dockerd: DockerDaemon, tmp_path: Path) -> None:
    cli = Cli(service, dockerd, tmp_path)
    owner = OWNER.format(domain=service.domain)
    wrong = cli.run(
        "login", "-u", owner, "-p", "not-the-password", "--server", service.server.url, check=False
    )
    assert "AADSTS50126" in _single_error(wrong)

    subscriptions = cli.login_owner()
    assert len(subscriptions) == 1
    assert subscriptions[0]["user"] == {"name": owner, "type": "user"}
    session = cli.config / "session.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert PASSWORD not in session.read_text()

    shown = cli.json("account", "show")
    assert shown["id"] == subscriptions[0]["id"]
    assert shown["tenantId"] == subscriptions[0]["tenantId"]
    assert cli.run("account", "show", "--query", "user.name", "-o", "tsv").stdout == f"{owner}\n"

    cli.run("logout")
    assert not session.exists()
    assert _single_error(cli.run("acr", "list", check=False)) == "Please run 'berth login' to setup account."


def test_registry_admin_user_and_credentials(owner: Cli, service: Service, tmp_path: Path) -> None:
    name = NAMES["admin"]
    login_server = service.login_server(name)
    created = owner.json("acr", "create", "-n", name)
    assert created["name"] == name
    assert created["loginServer"] == login_server
    assert created["adminUserEnabled"] is False
    assert (
        owner.run("acr", "show", "-n", name, "--query", "loginServer", "-o", "tsv").stdout
        == f"{login_server}\n"
    )
    assert name in owner.run("acr", "list", "-o", "table").stdout
    assert owner.json("acr", "check-name", "-n", name)["nameAvailable"] is False

    denied = owner.run("acr", "credential", "show", "-n", name, check=False)
    assert (
        _single_error(denied)
        == f"Run 'berth acr update -n {name} --admin-enabled true' to enable admin first."
    )

    assert owner.json("acr", "update", "-n", name, "--admin-enabled", "true")["adminUserEnabled"] is True
    first = owner.json("acr", "credential", "show", "-n", name)
    assert first["username"] == name
    assert [p["name"] for p in first["passwords"]] == ["password", "password2"]
    assert all(p["value"] for p in first["passwords"])

    again = owner.run("acr", "credential", "show", "-n", name)
    assert [p["value"] for p in again.json()["passwords"]] == [None, None]
    assert "shows each value only once" in again.stderr

    renewed = owner.json("acr", "credential", "renew", "-n", name, "--password-name", "password2")
    values = {p["name"]: p["value"] for p in renewed["passwords"]}
    assert values["password"] is None
    assert values["password2"]
    assert values["password2"] != first["passwords"][1]["value"]

    # The renewed password works with docker; the old one no longer does.
    old = owner.docker(
        "login",
        "-u",
        name,
        "--password-stdin",
        login_server,
        stdin=first["passwords"][1]["value"],
        check=False,
    )
    assert old.returncode != 0
    owner.docker("login", "-u", name, "--password-stdin", login_server, stdin=values["password2"])
    reference = f"{login_server}/admin/app:v1"
    owner.import_image(tmp_path, reference)
    owner.docker("push", reference)

    owner.run("acr", "delete", "-n", name, "--yes")
    missing = owner.run("acr", "show", "-n", name, check=False)
    assert missing.code == 3
    assert "could not be found" in _single_error(missing)


def test_acr_login_stores_an_identity_token_for_push_and_pull(
    owner: Cli, service: Service, tmp_path: Path
) -> None:
    name = NAMES["login"]
    login_server = service.login_server(name)
    owner.json("acr", "create", "-n", name)

    logged_in = owner.run("acr", "login", "-n", name)
    assert "Login Succeeded" in logged_in.stdout
    entry = owner.docker_auths()[login_server]
    assert base64.b64decode(entry["auth"]).decode() == f"{NULL_GUID}:"
    assert entry["identitytoken"].count(".") == 2  # an ACR refresh token (a JWT), not a password

    reference = f"{login_server}/team/app:v1"
    image_id = owner.import_image(tmp_path, reference)
    pushed = _digest(owner.docker("push", reference).stdout)
    owner.docker("rmi", reference)
    pulled = owner.docker("pull", reference).stdout
    assert pushed in pulled
    assert json.loads(owner.docker("image", "inspect", reference).stdout)[0]["Id"] == image_id

    # The repository commands use the same token flow.
    assert owner.json("acr", "repository", "list", "-n", name) == ["team/app"]

    upper = owner.run("acr", "login", "-n", name.upper())
    assert any(
        w.startswith("Uppercase characters are detected in the registry name.")
        for w in _warnings(upper.stderr)
    )


def test_expose_token_then_docker_login_with_the_null_guid(
    owner: Cli, service: Service, tmp_path: Path
) -> None:
    name = NAMES["expose"]
    login_server = service.login_server(name)
    owner.json("acr", "create", "-n", name)

    exposed = owner.run(
        "acr", "login", "-n", name, "--expose-token", env={"DOCKER_COMMAND": "/nonexistent/docker"}
    )
    token = exposed.json()
    assert token["loginServer"] == login_server
    assert token["username"] == NULL_GUID
    assert token["accessToken"] == token["refreshToken"]
    warnings = _warnings(exposed.stderr)
    assert warnings[0].startswith(
        "Note: The token in both the accessToken and refreshToken fields is an ACR Refresh"
    )
    assert warnings[1].endswith(f"'docker login loginServer -u {NULL_GUID} -p refreshToken'")

    result = owner.docker(
        "login", "-u", NULL_GUID, "--password-stdin", login_server, stdin=token["refreshToken"]
    )
    assert "Login Succeeded" in result.stdout
    reference = f"{login_server}/exposed:v1"
    owner.import_image(tmp_path, reference)
    owner.docker("push", reference)
    owner.docker("rmi", reference)
    owner.docker("pull", reference)


def test_service_principal_with_acr_pull(
    owner: Cli, service: Service, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    name = NAMES["sp"]
    login_server = service.login_server(name)
    registry_id = owner.json("acr", "create", "-n", name)["id"]
    owner.run("acr", "login", "-n", name)
    reference = f"{login_server}/shared/base:v1"
    owner.import_image(tmp_path, reference)
    owner.docker("push", reference)

    created = owner.run(
        "ad",
        "sp",
        "create-for-rbac",
        "--name",
        f"puller-{SUFFIX}",
        "--role",
        "AcrPull",
        "--scopes",
        registry_id,
    )
    sp = created.json()
    assert set(sp) == {"appId", "displayName", "password", "tenant"}
    assert any(
        w.startswith("Creating 'AcrPull' role assignment under scope") for w in _warnings(created.stderr)
    )
    assignments = owner.json("role", "assignment", "list", "--assignee", sp["appId"])
    assert [(a["roleDefinitionName"], a["scope"]) for a in assignments] == [("AcrPull", registry_id)]

    puller = Cli(service, dockerd, tmp_path / "puller")
    signed_in = puller.json(
        "login", "--service-principal", "-u", sp["appId"], "-p", sp["password"], "--tenant", sp["tenant"],
        "--server", service.server.url,
    )  # fmt: skip
    assert signed_in[0]["user"] == {"name": sp["appId"], "type": "servicePrincipal"}
    # AcrPull grants no management rights, so the registry is not visible: the login server is
    # formed from the name and the service's domain, as az forms <name>.azurecr.io.
    assert "Login Succeeded" in puller.run("acr", "login", "-n", name).stdout
    assert puller.docker_auths()[login_server]["identitytoken"]
    puller.docker("pull", reference)
    puller.docker("tag", reference, f"{login_server}/shared/base:pushed-by-puller")
    denied = puller.docker("push", f"{login_server}/shared/base:pushed-by-puller", check=False)
    assert denied.returncode != 0
    assert "denied" in denied.stderr.lower() or "unauthorized" in denied.stderr.lower(), denied.stderr

    credentials = owner.json("ad", "sp", "credential", "list", "--id", sp["appId"])
    assert len(credentials) == 1
    assert "secretText" not in credentials[0]

    owner.run(
        "role", "assignment", "delete", "--assignee", sp["appId"], "--role", "AcrPull", "--scope", registry_id
    )
    assert owner.json("role", "assignment", "list", "--assignee", sp["appId"]) == []
    refused = puller.run("acr", "login", "-n", name, "--expose-token", check=False)
    assert refused.code != 0
    assert "Unable to get AAD authorization tokens" in refused.stderr
    owner.run("ad", "sp", "delete", "--id", sp["appId"])


def test_scope_map_and_token(owner: Cli, service: Service, tmp_path: Path) -> None:
    name = NAMES["token"]
    login_server = service.login_server(name)
    owner.json("acr", "create", "-n", name)
    scope_map = owner.json(
        "acr", "scope-map", "create", "-n", "app-writer", "-r", name,
        "--repository", "app", "content/read", "content/write", "--description", "push app",
    )  # fmt: skip
    assert scope_map["actions"] == ["repositories/app/content/read", "repositories/app/content/write"]
    assert scope_map["typePropertiesType"] == "UserDefined"

    token = owner.json("acr", "token", "create", "-n", "ci-token", "-r", name, "--scope-map", "app-writer")
    assert token["credentials"]["username"] == "ci-token"
    password1 = token["credentials"]["passwords"][0]["value"]
    assert token["credentials"]["passwords"][0]["name"] == "password1"

    owner.docker("login", "-u", "ci-token", "--password-stdin", login_server, stdin=password1)
    allowed = f"{login_server}/app:v1"
    owner.import_image(tmp_path, allowed)
    owner.docker("push", allowed)
    other = f"{login_server}/other:v1"
    owner.docker("tag", allowed, other)
    assert owner.docker("push", other, check=False).returncode != 0

    shown = owner.json("acr", "token", "show", "-n", "ci-token", "-r", name)
    assert all("value" not in p or p["value"] is None for p in shown["credentials"]["passwords"])

    generated = owner.json(
        "acr",
        "token",
        "credential",
        "generate",
        "-n",
        "ci-token",
        "-r",
        name,
        "--password2",
        "--expiration-in-days",
        "7",
    )
    assert [p["name"] for p in generated["passwords"]] == ["password2"]
    assert generated["passwords"][0]["expiry"]

    disabled = owner.json("acr", "token", "update", "-n", "ci-token", "-r", name, "--status", "disabled")
    assert disabled["status"] == "disabled"
    owner.docker("logout", login_server)
    refused = owner.docker(
        "login", "-u", "ci-token", "--password-stdin", login_server, stdin=password1, check=False
    )
    assert refused.returncode != 0

    in_use = owner.run("acr", "scope-map", "delete", "-n", "app-writer", "-r", name, "--yes", check=False)
    assert "ScopeMapInUse" in _single_error(in_use)
    owner.run("acr", "token", "delete", "-n", "ci-token", "-r", name, "--yes")
    owner.run("acr", "scope-map", "delete", "-n", "app-writer", "-r", name, "--yes")
    assert [m["name"] for m in owner.json("acr", "scope-map", "list", "-r", name)] == [
        "_repositories_admin",
        "_repositories_pull",
        "_repositories_push",
    ]


def test_network_rule_add_and_remove(owner: Cli, service: Service) -> None:
    name = NAMES["net"]
    owner.json("acr", "create", "-n", name)
    added = owner.json("acr", "network-rule", "add", "-n", name, "--ip-address", "203.0.113.7")
    assert added["networkRuleSet"]["ipRules"] == [{"action": "Allow", "ipAddressOrRange": "203.0.113.7"}]
    assert owner.json("acr", "network-rule", "list", "-n", name)["ipRules"] == [
        {"action": "Allow", "ipAddressOrRange": "203.0.113.7"}
    ]

    owner.json("acr", "update", "-n", name, "--default-action", "Deny")
    blocked = owner.run("acr", "login", "-n", name, "--expose-token", check=False)
    assert _single_error(blocked).startswith(
        f"Looks like you don't have access to registry '{service.login_server(name)}'. To see configured "
        f"firewall rules, run 'berth acr show --query networkRuleSet --name {name}'."
    )
    rules = owner.json("acr", "show", "-n", name, "--query", "networkRuleSet")
    assert rules == {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "203.0.113.7"}]}

    owner.json("acr", "network-rule", "add", "-n", name, "--ip-address", "127.0.0.1")
    assert owner.json("acr", "login", "-n", name, "--expose-token")["refreshToken"]

    owner.json("acr", "network-rule", "remove", "-n", name, "--ip-address", "127.0.0.1")
    removed = owner.json("acr", "network-rule", "remove", "-n", name, "--ip-address", "203.0.113.7")
    assert removed["networkRuleSet"]["ipRules"] == []
    assert owner.run("acr", "login", "-n", name, "--expose-token", check=False).code != 0
    owner.json("acr", "update", "-n", name, "--default-action", "Allow")
    assert owner.json("acr", "login", "-n", name, "--expose-token")["refreshToken"]


def test_errors_are_one_line(owner: Cli) -> None:
    missing = owner.run("acr", "show", "-n", "doesnotexist1", check=False)
    assert missing.code == 3
    assert "doesnotexist1" in _single_error(missing)
    bad_name = owner.run("acr", "create", "-n", "Bad-Name", check=False)
    assert _single_error(bad_name) == "argument error: Registry name must use only lowercase."
    bad_query = owner.run("acr", "list", "--query", "[?", check=False)
    assert _single_error(bad_query).startswith("argument --query:")


def test_repository_commands(owner: Cli, service: Service, tmp_path: Path) -> None:
    name = NAMES["repo"]
    login_server = service.login_server(name)
    owner.json("acr", "create", "-n", name)
    owner.run("acr", "login", "-n", name)
    first = f"{login_server}/team/web:v1"
    owner.import_image(tmp_path, first)
    digest = _digest(owner.docker("push", first).stdout)
    owner.docker("tag", first, f"{login_server}/team/web:stable")
    owner.docker("push", f"{login_server}/team/web:stable")

    assert owner.json("acr", "repository", "list", "-n", name) == ["team/web"]
    assert sorted(owner.json("acr", "repository", "show-tags", "-n", name, "--repository", "team/web")) == [
        "stable",
        "v1",
    ]
    detailed = owner.json(
        "acr", "repository", "show-tags", "-n", name, "--repository", "team/web", "--detail"
    )
    assert {t["digest"] for t in detailed} == {digest}
    manifests = owner.json("acr", "repository", "show-manifests", "-n", name, "--repository", "team/web")
    assert [m["digest"] for m in manifests] == [digest]
    assert sorted(manifests[0]["tags"]) == ["stable", "v1"]
    repository = owner.json("acr", "repository", "show", "-n", name, "--repository", "team/web")
    assert repository["tagCount"] == 2
    assert owner.json("acr", "repository", "show", "-n", name, "--image", "team/web:v1")["digest"] == digest

    locked = owner.json(
        "acr", "repository", "update", "-n", name, "--image", "team/web:v1", "--write-enabled", "false"
    )
    assert locked["changeableAttributes"]["writeEnabled"] is False
    owner.import_image(tmp_path, first)  # a different image under the locked tag
    assert owner.docker("push", first, check=False).returncode != 0
    owner.json("acr", "repository", "update", "-n", name, "--image", "team/web:v1", "--write-enabled")

    owner.run("acr", "repository", "untag", "-n", name, "--image", "team/web:stable")
    assert owner.json("acr", "repository", "show-tags", "-n", name, "--repository", "team/web") == ["v1"]
    refused = owner.run("acr", "repository", "delete", "-n", name, "--repository", "team/web", check=False)
    assert _single_error(refused) == "Unable to prompt for confirmation as no tty available. Use --yes."
    owner.run("acr", "repository", "delete", "-n", name, "--repository", "team/web", "--yes")
    assert owner.json("acr", "repository", "list", "-n", name) == []


class HttpsServer(BerthServer):
    """``berth serve`` over HTTPS with a certificate from ``berth tls init``."""

    def __init__(self, data_dir: Path, ca_cert: Path, **kwargs: Any) -> None:
        super().__init__(data_dir, **kwargs)
        self.ca_cert = ca_cert

    @property
    def url(self) -> str:
        return f"https://{self.address}"

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        trust = ssl.create_default_context(cafile=str(self.ca_cert))
        with httpx.Client(verify=trust, timeout=2.0, trust_env=False) as client:
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    time.sleep(0.1)
        raise AssertionError(f"berth over HTTPS did not become ready:\n{self.log()[-3000:]}")


def test_https_service_with_a_private_ca(service: Service, dockerd: DockerDaemon, tmp_path: Path) -> None:
    """``--ca-cert`` (kept in the session) or ``REQUESTS_CA_BUNDLE`` make a private CA trusted,
    for the management API and for the registry's token flow alike."""
    certificates = tmp_path / "tls"
    init = Cli(service, dockerd, tmp_path / "init")
    init.run("tls", "init", "--domain", service.domain, "--out", str(certificates))
    ca_cert = certificates / "ca.crt"
    server = HttpsServer(
        tmp_path / "https-berth",
        ca_cert,
        args=[
            "--domain", service.domain,
            "--tls-cert", str(certificates / "server.crt"),
            "--tls-key", str(certificates / "server.key"),
        ],
        env={"BERTH_BOOTSTRAP_PASSWORD": PASSWORD},
    )  # fmt: skip
    owner = OWNER.format(domain=service.domain)
    with server:
        cli = Cli(service, dockerd, tmp_path / "https-client")
        untrusted = cli.run("login", "-u", owner, "-p", PASSWORD, "--server", server.url, check=False)
        assert "is not trusted" in _single_error(untrusted)
        assert "--ca-cert" in untrusted.stderr

        cli.run("login", "-u", owner, "-p", PASSWORD, "--server", server.url, "--ca-cert", str(ca_cert))
        session = json.loads((cli.config / "session.json").read_text())
        assert session["ca_cert"] == str(ca_cert.resolve())
        name = NAMES["tls"]
        created = cli.json("acr", "create", "-n", name)
        assert created["loginServer"] == f"{name}.{service.domain}:{server.port}"
        token = cli.json("acr", "login", "-n", name, "--expose-token")
        assert token["loginServer"] == created["loginServer"]
        assert token["refreshToken"].count(".") == 2

        by_environment = Cli(service, dockerd, tmp_path / "https-env")
        env = {"REQUESTS_CA_BUNDLE": str(ca_cert)}
        by_environment.run("login", "-u", owner, "-p", PASSWORD, "--server", server.url, env=env)
        assert json.loads(by_environment.run("acr", "show", "-n", name, env=env).stdout)["name"] == name
        # The variable is read by every command, not kept: without it the CA is not trusted.
        assert "is not trusted" in _single_error(by_environment.run("acr", "show", "-n", name, check=False))


def test_docker_command_podman(owner: Cli, service: Service, tmp_path: Path) -> None:
    """``DOCKER_COMMAND`` names the client ``berth acr login`` runs: here podman, with a private
    store, a private auth file and the registry marked plain-HTTP in its registries.conf."""
    name = NAMES["podman"]
    login_server = service.login_server(name)
    owner.json("acr", "create", "-n", name)
    home = Path(tempfile.mkdtemp(prefix="pm-", dir="/tmp"))  # podman limits the runroot's length
    try:
        wrapper = home / "podman"
        flags = f"--root={home}/root --runroot={home}/run --tmpdir={home}/tmp --storage-driver=vfs"
        flags += " --events-backend=file --cgroup-manager=cgroupfs"
        wrapper.write_text(f'#!/bin/sh\nexec podman {flags} "$@"\n')
        wrapper.chmod(0o755)
        auth_file = home / "auth.json"
        auth_file.write_text('{"auths": {}}')
        registries = home / "registries.conf"
        registries.write_text(f'[[registry]]\nlocation = "{login_server}"\ninsecure = true\n')
        env = {
            "DOCKER_COMMAND": str(wrapper),
            "REGISTRY_AUTH_FILE": str(auth_file),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
        }
        assert "Login Succeeded" in owner.run("acr", "login", "-n", name, env=env).stdout
        stored = json.loads(auth_file.read_text())["auths"][login_server]["auth"]
        username, _, refresh_token = base64.b64decode(stored).decode().partition(":")
        assert username == NULL_GUID
        assert refresh_token.count(".") == 2

        def podman(*args: str) -> subprocess.CompletedProcess[str]:
            result = subprocess.run(
                [str(wrapper), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"podman {' '.join(args)}:\n{result.stdout}{result.stderr}"
            return result

        reference = f"{login_server}/podman/app:v1"
        podman("import", str(rootfs_tarball(tmp_path / "rootfs.tar")), reference)
        podman("push", reference)
        podman("rmi", reference)
        podman("pull", reference)
    finally:
        shutil.rmtree(home, ignore_errors=True)
