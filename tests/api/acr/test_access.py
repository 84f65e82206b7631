"""The scope each ``/acr/v1/`` route asks for, with authentication on.

``metadata_read`` for reads, ``metadata_write`` for PATCH, ``delete`` for DELETE (acr-reference
§2.1), with the repository name decoded from ``%2F``; anonymous pull grants reads only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.app import BerthApp, build_app
from berth.config import load_settings
from berth.metadata import registries as registry_rows
from tests.api.oci import BASE_URL, TestClient, assert_error

DIGEST = "sha256:" + "a" * 64

ROUTES = [
    ("GET", "/acr/v1/team%2Fapp", "metadata_read"),
    ("PATCH", "/acr/v1/team%2Fapp", "metadata_write"),
    ("DELETE", "/acr/v1/team%2Fapp", "delete"),
    ("GET", "/acr/v1/team%2Fapp/_tags", "metadata_read"),
    ("GET", "/acr/v1/team/app/_tags/v1", "metadata_read"),
    ("PATCH", "/acr/v1/team%2Fapp/_tags/v1", "metadata_write"),
    ("DELETE", "/acr/v1/team%2Fapp/_tags/v1", "delete"),
    ("GET", "/acr/v1/team%2Fapp/_manifests", "metadata_read"),
    ("GET", f"/acr/v1/team%2Fapp/_manifests/{DIGEST}", "metadata_read"),
    ("PATCH", f"/acr/v1/team/app/_manifests/{DIGEST}", "metadata_write"),
]


@pytest.fixture
def secure_app(tmp_path: Path, database_url: str) -> BerthApp:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "database_url": database_url, "bootstrap_password": "Boot-Passw0rd"},
        environ={},
    )
    return build_app(settings)


@pytest.fixture
def secure(secure_app: BerthApp) -> Iterator[TestClient]:
    with TestClient(secure_app, base_url=BASE_URL) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "action"), ROUTES)
def test_unauthenticated_requests_are_challenged_for_the_routes_scope(
    secure: TestClient, method: str, path: str, action: str
) -> None:
    response = secure.request(method, path, json={"writeEnabled": False})

    entry = assert_error(response, 401, "UNAUTHORIZED")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="http://localhost:5000/oauth2/token"')
    assert f'scope="repository:team/app:{action}"' in challenge
    assert entry["detail"] == [{"Type": "repository", "Name": "team/app", "Action": action}]


def _anonymous_token(client: TestClient, scope: str) -> str:
    response = client.get("/oauth2/token", params={"service": "localhost:5000", "scope": scope})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def test_anonymous_pull_reads_metadata_but_cannot_change_or_delete(
    secure_app: BerthApp, secure: TestClient
) -> None:
    db = secure_app.services.db
    registry = db.read_sync(registry_rows.get_by_name, secure_app.services.settings.default_registry)
    assert registry is not None
    db.write_sync(registry_rows.update_properties, registry.id, anonymous_pull_enabled=True)
    secure_app.services.registries.invalidate()
    token = _anonymous_token(secure, "repository:team/app:metadata_read,metadata_write,delete")
    auth = {"Authorization": f"Bearer {token}"}

    # Past the access step: the repository simply does not exist.
    assert_error(secure.get("/acr/v1/team%2Fapp/_tags", headers=auth), 404, "NAME_UNKNOWN")
    assert_error(secure.get("/acr/v1/team/app", headers=auth), 404, "NAME_UNKNOWN")

    for method, path, action in [
        ("PATCH", "/acr/v1/team%2Fapp", "metadata_write"),
        ("DELETE", "/acr/v1/team/app/_tags/v1", "delete"),
    ]:
        response = secure.request(method, path, headers=auth, json={"writeEnabled": False})
        assert_error(response, 401, "UNAUTHORIZED")
        challenge = response.headers["WWW-Authenticate"]
        assert f'scope="repository:team/app:{action}",error="insufficient_scope"' in challenge
