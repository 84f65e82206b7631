"""Many registries, one service: the Host header selects the registry; registries share nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from berth.app import BerthApp, build_app
from berth.config import Settings, load_settings
from berth.metadata import registries as registry_rows
from berth.metadata.registries import RegistryRecord
from tests.api.oci import (
    BASE_URL,
    OCI_MANIFEST,
    TestClient,
    assert_error,
    digest_of,
    files_under,
    push_blob,
    push_image,
    push_manifest,
)

OTHER = "myreg.localhost:5000"
REPO = "team/app"


def default_registry(app: BerthApp) -> RegistryRecord:
    record = app.services.db.read_sync(registry_rows.get_by_name, "default")
    assert record is not None
    return record


@pytest.mark.parametrize(
    "host", ["MyReg.localhost:5000", "myreg.localhost", "MYREG.LOCALHOST:5000", "myreg.localhost."]
)
def test_host_selects_the_registry_case_insensitively(
    client: TestClient, other_registry: RegistryRecord, host: str
) -> None:
    digest = push_blob(client, REPO, b"in MyReg", host=OTHER)

    response = client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Host": host})

    assert response.status_code == 200
    assert response.content == b"in MyReg"


@pytest.mark.parametrize(
    "host", ["localhost:5000", "localhost", "127.0.0.1:5000", "127.0.0.1", "[::1]:5000", "10.0.0.7"]
)
def test_bare_addresses_serve_the_default_registry(client: TestClient, host: str) -> None:
    digest = push_blob(client, REPO, b"in the default registry")

    response = client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Host": host})

    assert response.status_code == 200
    assert response.content == b"in the default registry"


def test_the_default_registry_is_also_reachable_by_its_name(client: TestClient) -> None:
    digest = push_blob(client, REPO, b"default by name")

    response = client.head(f"/v2/{REPO}/blobs/{digest}", headers={"Host": "default.localhost:5000"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("nosuchreg.localhost:5000", "nosuchreg"),
        ("NoSuchReg.localhost", "nosuchreg"),
        ("myreg.example.com", "myreg.example.com"),
        ("deep.myreg.localhost", "deep.myreg"),
    ],
)
@pytest.mark.parametrize("path", ["/v2/", "/v2/_catalog", f"/v2/{REPO}/tags/list", "/oauth2/token"])
def test_unknown_registry_is_404_registry_unknown(
    client: TestClient, other_registry: RegistryRecord, host: str, name: str, path: str
) -> None:
    response = client.get(path, headers={"Host": host})

    entry = assert_error(response, 404, "REGISTRY_UNKNOWN")
    assert entry["detail"] == {"registry": name}
    assert "does not exist" in entry["message"]
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_a_registry_created_later_is_found(app: BerthApp, client: TestClient) -> None:
    app.services.db.write_sync(registry_rows.create, "Fresh1")

    assert client.get("/v2/", headers={"Host": "fresh1.localhost:5000"}).status_code == 200


def test_registries_under_a_custom_domain(tmp_path: Path, settings: Settings) -> None:
    custom = load_settings(
        overrides={
            "insecure_no_auth": True,
            "data_dir": tmp_path,
            "database_url": settings.database_url,
            "domain": "registry.test",
        },
        environ={},
    )
    app = build_app(custom)
    with TestClient(app, base_url=BASE_URL) as client:
        app.services.db.write_sync(registry_rows.create, "MyReg")

        assert client.get("/v2/", headers={"Host": "myreg.registry.test"}).status_code == 200
        assert client.get("/v2/", headers={"Host": "registry.test"}).status_code == 200
        assert client.get("/v2/", headers={"Host": "localhost:5000"}).status_code == 200
        assert_error(client.get("/v2/", headers={"Host": "myreg.localhost"}), 404, "REGISTRY_UNKNOWN")


# --- strict separation ----------------------------------------------------------------------


def test_a_blob_of_one_registry_is_unknown_in_another(
    client: TestClient, other_registry: RegistryRecord
) -> None:
    digest = push_blob(client, REPO, b"only in MyReg", host=OTHER)

    assert_error(client.get(f"/v2/{REPO}/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    assert client.head(f"/v2/{REPO}/blobs/{digest}").status_code == 404
    assert_error(client.delete(f"/v2/{REPO}/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    assert client.head(f"/v2/{REPO}/blobs/{digest}", headers={"Host": OTHER}).status_code == 200


@pytest.mark.parametrize("source", [REPO, "team/other", None])
def test_mount_across_registries_is_impossible(
    client: TestClient, other_registry: RegistryRecord, source: str | None
) -> None:
    digest = push_blob(client, REPO, b"only in MyReg", host=OTHER)
    params = {"mount": digest} if source is None else {"mount": digest, "from": source}

    response = client.post("/v2/team/other/blobs/uploads/", params=params)

    assert response.status_code == 202
    assert client.head(f"/v2/team/other/blobs/{digest}").status_code == 404


def test_manifests_need_their_blobs_in_the_same_registry(
    client: TestClient, other_registry: RegistryRecord
) -> None:
    body, digest = push_image(client, REPO, "v1", host=OTHER)

    assert_error(push_manifest(client, REPO, "v1", body, OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN")
    assert_error(client.get(f"/v2/{REPO}/manifests/{digest}"), 404, "NAME_UNKNOWN")
    assert client.get(f"/v2/{REPO}/manifests/v1", headers={"Host": OTHER}).content == body


def test_tags_catalog_and_referrers_are_per_registry(
    client: TestClient, other_registry: RegistryRecord
) -> None:
    _, subject = push_image(client, REPO, "mine", host=OTHER)
    push_image(client, "team/default-only", "v1")

    assert client.get("/v2/_catalog", headers={"Host": OTHER}).json() == {"repositories": [REPO]}
    assert client.get("/v2/_catalog").json() == {"repositories": ["team/default-only"]}
    assert_error(client.get(f"/v2/{REPO}/tags/list"), 404, "NAME_UNKNOWN")
    assert client.get(f"/v2/{REPO}/tags/list", headers={"Host": OTHER}).json()["tags"] == ["mine"]
    assert client.get(f"/v2/{REPO}/referrers/{subject}").json()["manifests"] == []


def test_the_same_repository_name_is_two_repositories(
    client: TestClient, other_registry: RegistryRecord
) -> None:
    mine, _ = push_image(client, REPO, "latest", seed="in MyReg", host=OTHER)
    theirs, _ = push_image(client, REPO, "latest", seed="in default")

    assert client.get(f"/v2/{REPO}/manifests/latest", headers={"Host": OTHER}).content == mine
    assert client.get(f"/v2/{REPO}/manifests/latest").content == theirs
    client.delete(f"/v2/{REPO}/manifests/latest", headers={"Host": OTHER})
    assert client.get(f"/v2/{REPO}/manifests/latest").content == theirs


def test_upload_sessions_belong_to_their_registry(client: TestClient, other_registry: RegistryRecord) -> None:
    started = client.post(f"/v2/{REPO}/blobs/uploads/", headers={"Host": OTHER})
    location = started.headers["Location"]

    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.patch(location, content=b"x"), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.put(location, params={"digest": digest_of(b"")}), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.delete(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert client.get(location, headers={"Host": OTHER}).status_code == 204


def test_storage_of_registries_is_separate(
    app: BerthApp, client: TestClient, settings: Settings, other_registry: RegistryRecord
) -> None:
    digest = push_blob(client, REPO, b"stored for MyReg", host=OTHER)
    root = settings.resolved_storage_path / "registries"

    mine = [p.name for p in files_under(root / other_registry.id)]
    theirs = files_under(root / default_registry(app).id)

    assert mine == [digest.split(":", 1)[1]]
    assert theirs == []


def test_the_same_blob_pushed_to_two_registries_is_stored_twice(
    app: BerthApp, client: TestClient, settings: Settings, other_registry: RegistryRecord
) -> None:
    digest = push_blob(client, REPO, b"in both", host=OTHER)
    push_blob(client, REPO, b"in both")
    root = settings.resolved_storage_path / "registries"

    assert client.delete(f"/v2/{REPO}/blobs/{digest}").status_code == 202

    assert [p.name for p in files_under(root / other_registry.id)] == [digest.split(":", 1)[1]]
    assert [p.name for p in files_under(root / default_registry(app).id)] == [digest.split(":", 1)[1]]
    assert client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Host": OTHER}).content == b"in both"


@pytest.mark.parametrize(
    "host", ["\x00.localhost:5000", "my\x00reg.localhost:5000", "a" * 300 + ".localhost:5000"]
)
def test_a_host_no_registry_can_have_is_404_registry_unknown(client: TestClient, host: str) -> None:
    response = client.get("/v2/", headers={"Host": host.encode("latin-1")})

    assert_error(response, 404, "REGISTRY_UNKNOWN")
