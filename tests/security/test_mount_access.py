"""Cross-repository mounts never hand out bytes the caller may not pull (issue 8, finding 2).

A mount (``POST /v2/<name>/blobs/uploads/?mount=<digest>[&from=<repository>]``) links an
existing blob into the caller's repository. It must succeed only when the caller may pull a
repository of this registry that holds the blob; otherwise it answers ``202`` with a fresh
upload session, exactly as for a digest nobody holds, so the answer is no oracle either.
Every credential kind is tried: the admin user, service principals with roles, tokens with
scope maps (Basic and Bearer), and anonymous callers. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from berth.access import secrets
from berth.app import BerthApp, build_app
from berth.config import load_settings
from berth.metadata import repositories as repository_rows
from tests.api.access.wire import BASE_URL, TestClient, access_token, authorized, basic, bearer, digest_of
from tests.support.access_setup import AccessSetup, ScopedToken

SECRET_REPO = "secret/vault"
SHARED_REPO = "team/shared"
OWN_REPO = "team/a"
SECRET_BLOB = b"bytes only the secret repository may read"
SHARED_BLOB = b"bytes the shared repository holds"
NOBODY_HOLDS = digest_of(b"bytes nobody pushed")


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "database_url": database_url, "bootstrap_password": "Boot-Passw0rd"},
        environ={},
    )
    return build_app(settings)


@pytest.fixture
def client(app: BerthApp) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as started:
        yield started


@pytest.fixture
def setup(app: BerthApp, client: TestClient) -> AccessSetup:
    return AccessSetup.for_app(app)


@pytest.fixture
def admin(setup: AccessSetup, client: TestClient) -> dict[str, str]:
    """The admin user's Basic header, after it pushed the secret and the shared blob."""
    password, _ = setup.enable_admin()
    headers = basic("default", password)
    with authorized(client, headers):
        for repository, blob in ((SECRET_REPO, SECRET_BLOB), (SHARED_REPO, SHARED_BLOB)):
            started = client.post(
                f"/v2/{repository}/blobs/uploads/", params={"digest": digest_of(blob)}, content=blob
            )
            assert started.status_code == 201, started.text
    return headers


def mount(
    client: TestClient, headers: dict[str, str], blob: bytes | str, source: str | None
) -> httpx.Response:
    digest = blob if isinstance(blob, str) else digest_of(blob)
    params = {"mount": digest, **({"from": source} if source else {})}
    response: httpx.Response = client.post(f"/v2/{OWN_REPO}/blobs/uploads/", params=params, headers=headers)
    return response


def assert_not_mounted(client: TestClient, response: httpx.Response, headers: dict[str, str]) -> None:
    """A fresh upload session, exactly as for a digest nobody holds; nothing was linked."""
    assert response.status_code == 202, response.text
    assert response.headers["Location"].startswith(f"/v2/{OWN_REPO}/blobs/uploads/")
    assert "Docker-Content-Digest" not in response.headers


def assert_mounted(response: httpx.Response, blob: bytes) -> None:
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == digest_of(blob)


def blob_in_own_repo(client: TestClient, admin: dict[str, str], blob: bytes) -> int:
    status: int = client.get(f"/v2/{OWN_REPO}/blobs/{digest_of(blob)}", headers=admin).status_code
    return status


# --- a token whose scope map grants push on its own repository and pull on the shared one ---


@pytest.fixture
def token(setup: AccessSetup, admin: dict[str, str]) -> ScopedToken:
    setup.scope_map(
        "team-a-writer",
        [
            f"repositories/{OWN_REPO}/content/read",
            f"repositories/{OWN_REPO}/content/write",
            f"repositories/{SHARED_REPO}/content/read",
        ],
    )
    return setup.token("team-a-writer", "team-a-writer")


@pytest.fixture
def token_headers(token: ScopedToken) -> dict[str, str]:
    return basic(token.name, token.password1)


@pytest.mark.parametrize("source", [None, SECRET_REPO])
def test_a_token_cannot_mount_from_a_repository_its_scope_map_denies(
    client: TestClient, admin: dict[str, str], token_headers: dict[str, str], source: str | None
) -> None:
    response = mount(client, token_headers, SECRET_BLOB, source)

    assert_not_mounted(client, response, token_headers)
    assert blob_in_own_repo(client, admin, SECRET_BLOB) == 404


def test_a_refused_mount_answers_like_an_unknown_digest(
    client: TestClient, admin: dict[str, str], token_headers: dict[str, str]
) -> None:
    held = mount(client, token_headers, SECRET_BLOB, None)
    unknown = mount(client, token_headers, NOBODY_HOLDS, None)

    assert (held.status_code, sorted(held.headers)) == (unknown.status_code, sorted(unknown.headers))
    assert held.content == unknown.content == b""


@pytest.mark.parametrize("source", [None, SHARED_REPO])
def test_a_token_mounts_from_a_repository_it_may_pull(
    client: TestClient, admin: dict[str, str], token_headers: dict[str, str], source: str | None
) -> None:
    assert_mounted(mount(client, token_headers, SHARED_BLOB, source), SHARED_BLOB)
    assert blob_in_own_repo(client, admin, SHARED_BLOB) == 200


def test_a_bearer_token_mounts_only_what_it_lists(
    client: TestClient, setup: AccessSetup, admin: dict[str, str]
) -> None:
    """The access token lists push on its repository and pull on the shared one only."""
    setup.scope_map(
        "wide",
        [f"repositories/{name}/content/read" for name in (OWN_REPO, SHARED_REPO, SECRET_REPO)]
        + [f"repositories/{OWN_REPO}/content/write"],
    )
    token = setup.token("wide", "wide")
    jwt = access_token(
        client,
        token.name,
        token.password1,
        f"repository:{OWN_REPO}:push,pull",
        f"repository:{SHARED_REPO}:pull",
    )

    assert_not_mounted(client, mount(client, bearer(jwt), SECRET_BLOB, None), bearer(jwt))
    assert_not_mounted(client, mount(client, bearer(jwt), SECRET_BLOB, SECRET_REPO), bearer(jwt))
    assert_mounted(mount(client, bearer(jwt), SHARED_BLOB, None), SHARED_BLOB)
    assert blob_in_own_repo(client, admin, SECRET_BLOB) == 404


def test_a_bearer_token_with_pull_on_the_source_mounts(client: TestClient, token: ScopedToken) -> None:
    jwt = access_token(
        client,
        token.name,
        token.password1,
        f"repository:{OWN_REPO}:push,pull",
        f"repository:{SHARED_REPO}:pull",
    )

    assert_mounted(mount(client, bearer(jwt), SHARED_BLOB, SHARED_REPO), SHARED_BLOB)


# --- the admin user and service principals: roles are registry-wide -----------------------


def test_the_admin_user_mounts_from_any_repository(client: TestClient, admin: dict[str, str]) -> None:
    assert_mounted(mount(client, admin, SECRET_BLOB, None), SECRET_BLOB)
    assert_mounted(mount(client, admin, SHARED_BLOB, SHARED_REPO), SHARED_BLOB)


@pytest.mark.parametrize("role", ["AcrPush", "Contributor", "Owner"])
def test_a_service_principal_that_may_pull_everything_mounts(
    client: TestClient, setup: AccessSetup, admin: dict[str, str], role: str
) -> None:
    sp = setup.service_principal(f"sp-{role}", role=role)

    assert_mounted(mount(client, basic(sp.app_id, sp.secret), SECRET_BLOB, None), SECRET_BLOB)


def test_nothing_is_mounted_from_a_repository_whose_content_may_not_be_read(
    app: BerthApp, client: TestClient, admin: dict[str, str]
) -> None:
    db = app.services.db
    registry = AccessSetup.for_app(app).registry()
    secret = db.read_sync(repository_rows.get, registry.id, SECRET_REPO)
    assert secret is not None
    db.write_sync(repository_rows.set_attributes, secret.id, {"read_enabled": False})

    assert_not_mounted(client, mount(client, admin, SECRET_BLOB, None), admin)
    assert_not_mounted(client, mount(client, admin, SECRET_BLOB, SECRET_REPO), admin)


# --- callers who may not push get no session at all -----------------------------------------


@pytest.mark.parametrize("role", ["AcrPull", "Reader", None])
def test_a_service_principal_without_push_is_refused(
    client: TestClient, setup: AccessSetup, admin: dict[str, str], role: str | None
) -> None:
    sp = setup.service_principal(f"sp-{role}", role=role)

    response = mount(client, basic(sp.app_id, sp.secret), SECRET_BLOB, None)

    assert response.status_code in (401, 403), response.text
    assert blob_in_own_repo(client, admin, SECRET_BLOB) == 404


def test_an_anonymous_caller_is_refused_even_with_anonymous_pull(
    client: TestClient, setup: AccessSetup, admin: dict[str, str]
) -> None:
    setup.set_anonymous_pull(True)
    anonymous = client.get(
        "/oauth2/token", params={"service": "localhost:5000", "scope": f"repository:{OWN_REPO}:push,pull"}
    )
    assert anonymous.status_code == 200, anonymous.text
    jwt = anonymous.json()["access_token"]

    for headers in ({}, bearer(jwt)):
        response = mount(client, headers, SHARED_BLOB, SHARED_REPO)
        assert response.status_code == 401, response.text
    assert blob_in_own_repo(client, admin, SHARED_BLOB) == 404
