"""``az acr`` against berth, the default registry (the bare domain) and named ones, by short name."""

from __future__ import annotations

import re
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from tests.e2e.az.azcli import Az
from tests.e2e.az.conftest import AzService
from tests.support.access_setup import AccessSetup
from tests.support.dockerd import DockerDaemon
from tests.support.tls_server import TlsBerthServer

# The first test of a session may install azure-cli into its cache (minutes on a busy machine).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def _image(docker: DockerDaemon, tmp_path: Path, reference: str) -> None:
    """A one-file image made locally with ``docker import`` (no network needed)."""
    content = tmp_path / "hello.txt"
    content.write_text(f"hello {reference}\n")
    archive = tmp_path / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(content, arcname="hello.txt")
    docker.run("import", str(archive), reference)


def _create(az: Az, name: str, group: str = "az-rg") -> dict[str, str]:
    created: dict[str, str] = az.json("acr", "create", "-n", name, "-g", group, "--sku", "Premium")
    return created


def test_registry_management_by_short_name(owner_az: Az, az_service: AzService) -> None:
    created = _create(owner_az, "named1")
    default = owner_az.json("acr", "show", "-n", "default")
    named = owner_az.json("acr", "show", "-n", "named1")
    listed = owner_az.json("acr", "list", "--query", "[].name")
    anonymous = owner_az.json("acr", "update", "-n", "named1", "--anonymous-pull-enabled", "true")
    admin = owner_az.json("acr", "update", "-n", "named1", "--admin-enabled", "true")
    credentials = owner_az.json("acr", "credential", "show", "-n", "named1")
    renewed = owner_az.json("acr", "credential", "renew", "-n", "named1", "--password-name", "password2")
    added = owner_az.json("acr", "network-rule", "add", "-n", "named1", "--ip-address", "10.1.0.0/16")
    removed = owner_az.json("acr", "network-rule", "remove", "-n", "named1", "--ip-address", "10.1.0.0/16")

    assert created["loginServer"] == az_service.server.login_server("named1")
    assert default["loginServer"] == az_service.server.domain
    assert named["resourceGroup"] == "az-rg"
    assert {"default", "named1"} <= set(listed)
    assert anonymous["anonymousPullEnabled"] is True
    assert admin["adminUserEnabled"] is True
    assert credentials["username"] == "named1"
    assert [p["name"] for p in credentials["passwords"]] == ["password", "password2"]
    assert all(len(p["value"]) >= 32 for p in credentials["passwords"])
    new_password = renewed["passwords"][1]["value"]
    assert new_password not in {p["value"] for p in credentials["passwords"]}
    assert added["networkRuleSet"]["ipRules"] == [{"action": "Allow", "ipAddressOrRange": "10.1.0.0/16"}]
    assert removed["networkRuleSet"]["ipRules"] == []
    with az_service.http() as http:
        login = http.get(
            f"https://{az_service.server.login_server('named1')}/v2/", auth=("named1", new_password)
        )
    assert login.status_code == 200


def test_acr_login_then_docker_push_pull_and_repository_commands(
    owner_az: Az, az_service: AzService, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    _create(owner_az, "repos1")
    server = az_service.server.login_server("repos1")
    started = time.monotonic()
    logged_in = owner_az.run("acr", "login", "-n", "repos1")
    elapsed = time.monotonic() - started
    print(f"az acr login took {elapsed:.2f} s")
    _image(dockerd, tmp_path, f"{server}/app:v1")
    dockerd.run("push", f"{server}/app:v1")
    dockerd.run("tag", f"{server}/app:v1", f"{server}/app:v2")
    dockerd.run("push", f"{server}/app:v2")
    dockerd.run("rmi", f"{server}/app:v1", f"{server}/app:v2")
    dockerd.run("pull", f"{server}/app:v1")
    default_login = owner_az.run("acr", "login", "-n", "default")
    _image(dockerd, tmp_path, f"{az_service.server.domain}/base:1")
    dockerd.run("push", f"{az_service.server.domain}/base:1")

    repositories = owner_az.json("acr", "repository", "list", "-n", "repos1")
    default_repositories = owner_az.json("acr", "repository", "list", "-n", "default")
    tags = owner_az.json("acr", "repository", "show-tags", "-n", "repos1", "--repository", "app")
    manifests = owner_az.json("acr", "repository", "show-manifests", "-n", "repos1", "--repository", "app")
    shown = owner_az.json("acr", "repository", "show", "-n", "repos1", "--image", "app:v2")
    locked = owner_az.json(
        "acr", "repository", "update", "-n", "repos1", "--image", "app:v2", "--write-enabled", "false"
    )
    unlocked = owner_az.json(
        "acr", "repository", "update", "-n", "repos1", "--image", "app:v2", "--write-enabled", "true"
    )
    owner_az.run("acr", "repository", "untag", "-n", "repos1", "--image", "app:v2")
    after_untag = owner_az.json("acr", "repository", "show-tags", "-n", "repos1", "--repository", "app")
    owner_az.run("acr", "repository", "delete", "-n", "repos1", "--repository", "app", "--yes")
    after_delete = owner_az.json("acr", "repository", "list", "-n", "repos1")

    assert "Login Succeeded" in logged_in.stdout + logged_in.stderr
    assert "Login Succeeded" in default_login.stdout + default_login.stderr
    assert repositories == ["app"]
    assert "base" in default_repositories
    assert tags == ["v1", "v2"]
    assert [sorted(m["tags"]) for m in manifests] == [["v1", "v2"]]
    assert manifests[0]["digest"].startswith("sha256:")
    assert shown["name"] == "v2"
    assert shown["digest"] == manifests[0]["digest"]
    assert locked["changeableAttributes"]["writeEnabled"] is False
    assert unlocked["changeableAttributes"]["writeEnabled"] is True
    assert after_untag == ["v1"]
    assert after_delete == []


def test_acr_login_expose_token(owner_az: Az, az_service: AzService) -> None:
    exposed = owner_az.json("acr", "login", "-n", "default", "--expose-token")

    assert exposed["loginServer"] == az_service.server.domain
    assert exposed["username"] == "00000000-0000-0000-0000-000000000000"
    with az_service.http() as http:
        access = http.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": az_service.server.domain,
                "scope": "registry:catalog:*",
                "refresh_token": exposed["accessToken"],
            },
        )
        catalog = http.get(
            "/v2/_catalog", headers={"Authorization": f"Bearer {access.json()['access_token']}"}
        )
    assert access.status_code == 200, access.text
    assert catalog.status_code == 200
    assert "repositories" in catalog.json()


def test_tokens_with_passwords_and_scope_maps(owner_az: Az, az_service: AzService) -> None:
    _create(owner_az, "tokens1")
    token = owner_az.json(
        "acr",
        "token",
        "create",
        "-n",
        "ci-token",
        "-r",
        "tokens1",
        "--repository",
        "app",
        "content/read",
        "content/write",
    )
    listed = owner_az.json("acr", "token", "list", "-r", "tokens1", "--query", "[].name")
    scope_map = owner_az.json(
        "acr", "scope-map", "create", "-n", "readers", "-r", "tokens1", "--repository", "app", "content/read"
    )
    updated = owner_az.json(
        "acr",
        "scope-map",
        "update",
        "-n",
        "readers",
        "-r",
        "tokens1",
        "--add-repository",
        "lib",
        "content/read",
    )
    password = token["credentials"]["passwords"][0]["value"]
    login_server = az_service.server.login_server("tokens1")
    with az_service.http() as http:
        accepted = http.get(
            f"https://{login_server}/oauth2/token",
            params={"service": login_server, "scope": "repository:app:pull"},
            auth=("ci-token", password),
        )
    owner_az.run("acr", "token", "delete", "-n", "ci-token", "-r", "tokens1", "--yes")
    after = owner_az.json("acr", "token", "list", "-r", "tokens1", "--query", "[].name")

    assert token["credentials"]["username"] == "ci-token"
    assert [p["name"] for p in token["credentials"]["passwords"]] == ["password1", "password2"]
    assert all(p["value"] for p in token["credentials"]["passwords"])
    assert token["scopeMapId"].endswith("/scopeMaps/ci-token-scope-map")
    assert listed == ["ci-token"]
    assert scope_map["actions"] == ["repositories/app/content/read"]
    # az merges the actions as a set (acr/scope_map.py), so their order is its hash order
    assert sorted(updated["actions"]) == ["repositories/app/content/read", "repositories/lib/content/read"]
    assert accepted.status_code == 200, accepted.text
    assert after == []


def test_check_health_fails_only_what_needs_the_internet(owner_az: Az, az_service: AzService) -> None:
    _create(owner_az, "health1")
    result = owner_az.run("acr", "check-health", "-n", "health1", "--ignore-errors", "--yes", check=False)
    output = result.stdout + result.stderr
    login_server = az_service.server.login_server("health1")

    assert f"DNS lookup to {login_server} at IP {az_service.server.ip} : OK" in output
    assert f"Challenge endpoint https://{login_server}/v2/ : OK" in output
    assert f"Fetch refresh token for registry '{login_server}' : OK" in output
    assert f"Fetch access token for registry '{login_server}' : OK" in output
    codes = set(re.findall(r"An error occurred: (\w+)", output))
    # mcr.microsoft.com is unreachable offline; helm is not installed here.
    assert "DOCKER_PULL_ERROR" in codes
    assert codes <= {"DOCKER_PULL_ERROR", "HELM_COMMAND_ERROR", "NOTARY_COMMAND_ERROR"}, output


def test_a_caller_without_rights_does_not_find_the_registry(fresh_az: Az, owner_az: Az) -> None:
    created = owner_az.json("ad", "sp", "create-for-rbac", "-n", f"nobody-{int(time.time())}")
    fresh_az.run(
        "login",
        "--service-principal",
        "-u",
        created["appId"],
        "-p",
        created["password"],
        "--tenant",
        created["tenant"],
    )

    error = fresh_az.fails("acr", "show", "-n", "default")

    assert "could not be found" in error


def test_import_from_another_registry_of_the_service(
    owner_az: Az, az_service: AzService, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    _create(owner_az, "import1")
    source = az_service.server.login_server("import1")
    owner_az.run("acr", "login", "-n", "import1")
    _image(dockerd, tmp_path, f"{source}/lib/tool:1.0")
    dockerd.run("push", f"{source}/lib/tool:1.0")
    digest = owner_az.json("acr", "repository", "show", "-n", "import1", "--image", "lib/tool:1.0")["digest"]

    owner_az.run(
        "acr", "import", "-n", "default", "--source", f"{source}/lib/tool:1.0", "-t", "copied/tool:1.0"
    )
    owner_az.run(
        "acr",
        "import",
        "-n",
        "default",
        "--source",
        "lib/tool:1.0",
        "-r",
        "import1",
        "-t",
        "copied/tool:again",
    )
    missing = owner_az.fails(
        "acr",
        "import",
        "-n",
        "import1",
        "--source",
        f"{az_service.server.domain}/base-for-import:1",
        "-t",
        "x:1",
    )
    tags = owner_az.json("acr", "repository", "show-tags", "-n", "default", "--repository", "copied/tool")
    copied = owner_az.json("acr", "repository", "show", "-n", "default", "--image", "copied/tool:1.0")
    owner_az.run("acr", "login", "-n", "default")
    dockerd.run("rmi", f"{source}/lib/tool:1.0")
    pulled = dockerd.run("pull", f"{az_service.server.domain}/copied/tool:1.0")

    assert sorted(tags) == ["1.0", "again"]
    assert copied["digest"] == digest
    assert "Import failed" in missing
    assert digest in pulled.stdout


def test_import_from_another_oci_registry_with_credentials(
    owner_az: Az, az_service: AzService, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    """The source is another berth, over HTTPS with the same CA, behind Bearer token challenges."""
    data_dir = tmp_path / "source"
    (data_dir / "tls").mkdir(parents=True)
    for name in ("ca.crt", "ca.key"):
        shutil.copy(az_service.server.tls_dir / name, data_dir / "tls" / name)
    source = TlsBerthServer(data_dir, env={"BERTH_BOOTSTRAP_PASSWORD": "source-Passw0rd"})
    source.init_tls("localhost")
    with source:
        setup = AccessSetup.for_database(f"sqlite:///{data_dir / 'metadata.db'}")
        pusher = setup.service_principal("ext-pusher", role="AcrPush")
        setup.close()
        remote = f"127.0.0.1:{source.port}"
        dockerd.run("login", remote, "-u", pusher.app_id, "-p", pusher.secret)
        _image(dockerd, tmp_path, f"{remote}/ext/app:v1")
        pushed = dockerd.run("push", f"{remote}/ext/app:v1")

        denied = owner_az.fails(
            "acr", "import", "-n", "default", "--source", f"{remote}/ext/app:v1", "-t", "ext/app:v1"
        )
        owner_az.run(
            "acr",
            "import",
            "-n",
            "default",
            "--source",
            f"{remote}/ext/app:v1",
            "-t",
            "ext/app:v1",
            "--username",
            pusher.app_id,
            "--password",
            pusher.secret,
        )
    imported = owner_az.json("acr", "repository", "show", "-n", "default", "--image", "ext/app:v1")

    assert "wants credentials" in denied
    assert imported["digest"] in pushed.stdout
