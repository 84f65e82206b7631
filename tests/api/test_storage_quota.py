"""The storage quota at each entry point of a push, over the registry API.

A blob that would take the registry past its quota is refused with ``403 DENIED`` (docker prints
``denied: <message>`` and does not retry), at a monolithic POST, a monolithic PUT and the PUT that
completes a chunked upload. The refused upload leaves no session, no part and no bytes, and
usage does not change; what was stored before stays readable. A blob the registry already
stores and a cross-repository mount add nothing and pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from berth.app import BerthApp
from berth.config import Settings
from berth.events.recorder import EventRecorder
from berth.metadata import blobs as blob_rows
from berth.metadata import registries as registry_rows
from berth.metadata.events_schema import repository_events
from berth.metadata.registries import RegistryRecord
from berth.metadata.usage import stored_bytes
from tests.api.oci import TestClient, assert_error, digest_of, files_under, push_blob

REPOSITORY = "app"
STORED = b"s" * 600  # pushed before the quota is set
QUOTA = 1000
TOO_BIG = b"t" * 401  # 600 + 401 > 1000
FITS = b"f" * 400  # 600 + 400 = 1000: an exact fit is allowed


def default_registry(app: BerthApp) -> RegistryRecord:
    record = app.services.db.read_sync(registry_rows.get_by_name, app.services.settings.default_registry)
    assert record is not None
    return record


@pytest.fixture
def quota_app(app: BerthApp, client: TestClient) -> RegistryRecord:
    """The default registry storing STORED, then given a quota of QUOTA bytes."""
    push_blob(client, REPOSITORY, STORED)
    record = default_registry(app)
    app.services.db.write_sync(registry_rows.update_properties, record.id, storage_quota=QUOTA)
    app.services.registries.invalidate()
    return record


def usage(app: BerthApp, record: RegistryRecord) -> int:
    return app.services.db.read_sync(stored_bytes, record.id)


def stored_files(settings: Settings) -> list[Path]:
    return files_under(settings.resolved_storage_path)


def assert_refused(response: httpx.Response) -> dict[str, Any]:
    entry = assert_error(response, 403, "DENIED")
    message = entry["message"]
    assert message.startswith(
        "storage quota exceeded: registry 'default' stores 600 B of its 1000 B quota"
    ), message
    assert "this blob needs 401 B more; nothing was stored" in message
    assert "berth acr gc -n default" in message
    assert "berth acr update -n default --storage-quota 1MiB" in message
    assert f"(correlation id {response.headers['X-Ms-Correlation-Request-Id']})" in message
    assert entry["detail"] == {
        "reason": "storage_quota_exceeded",
        "registry": "default",
        "used": 600,
        "quota": QUOTA,
        "size": len(TOO_BIG),
    }
    return entry


def assert_nothing_left(
    app: BerthApp, client: TestClient, record: RegistryRecord, before: list[Path]
) -> None:
    assert usage(app, record) == len(STORED)
    assert app.services.db.read_sync(blob_rows.uploads_changed_before, float("inf")) == []
    assert stored_files(app.services.settings) == before  # no part, no blob of the refused upload
    assert client.head(f"/v2/{REPOSITORY}/blobs/{digest_of(TOO_BIG)}").status_code == 404
    kept = client.get(f"/v2/{REPOSITORY}/blobs/{digest_of(STORED)}")
    assert kept.status_code == 200
    assert kept.content == STORED


def test_monolithic_post_is_refused_before_its_body_is_stored(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    before = stored_files(app.services.settings)

    response = client.post(
        f"/v2/{REPOSITORY}/blobs/uploads/",
        params={"digest": digest_of(TOO_BIG)},
        content=TOO_BIG,
        headers={"Content-Type": "application/octet-stream"},
    )

    assert_refused(response)
    assert_nothing_left(app, client, quota_app, before)


def test_monolithic_put_is_refused_and_the_session_ends(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    before = stored_files(app.services.settings)
    started = client.post(f"/v2/{REPOSITORY}/blobs/uploads/")
    assert started.status_code == 202

    response = client.put(started.headers["Location"], params={"digest": digest_of(TOO_BIG)}, content=TOO_BIG)

    assert_refused(response)
    assert_nothing_left(app, client, quota_app, before)
    assert_error(client.get(started.headers["Location"]), 404, "BLOB_UPLOAD_UNKNOWN")


def test_chunked_upload_is_refused_at_completion_and_its_parts_removed(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    """docker's way: POST, one PATCH with the layer, then a PUT without a body."""
    before = stored_files(app.services.settings)
    started = client.post(f"/v2/{REPOSITORY}/blobs/uploads/")
    location = started.headers["Location"]
    for start in (0, 200):
        chunk = TOO_BIG[start : start + 200] if start == 0 else TOO_BIG[200:]
        patched = client.patch(
            location,
            content=chunk,
            headers={
                "Content-Range": f"{start}-{start + len(chunk) - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert patched.status_code == 202, patched.text
    written = set(stored_files(app.services.settings)) - set(before)
    assert sum(path.stat().st_size for path in written) == len(TOO_BIG)  # the two parts' bytes

    response = client.put(location, params={"digest": digest_of(TOO_BIG)})

    assert_refused(response)
    assert_nothing_left(app, client, quota_app, before)


def test_the_refused_push_is_a_failed_push_event_with_its_reason(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    response = client.post(
        f"/v2/{REPOSITORY}/blobs/uploads/", params={"digest": digest_of(TOO_BIG)}, content=TOO_BIG
    )
    assert response.status_code == 403
    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()

    correlation_id = response.headers["X-Ms-Correlation-Request-Id"]
    rows = app.services.db.read_sync(
        lambda conn: [
            dict(row)
            for row in conn.execute(
                repository_events.select().where(repository_events.c.correlation_id == correlation_id)
            ).mappings()
        ]
    )
    assert len(rows) == 1
    event = rows[0]
    assert (event["operation"], event["result_type"], event["result_description"]) == (
        "Push",
        "Failed",
        "403",
    )
    assert (event["repository"], event["digest"], event["size"]) == (
        REPOSITORY,
        digest_of(TOO_BIG),
        len(TOO_BIG),
    )
    assert event["reason"] == "storage_quota_exceeded"
    assert event["detail"] == (
        "registry 'default' stores 600 B of its 1000 B storage quota, and the push of a blob of 401 B to app "
        "was refused because it would exceed it"
    )


def test_an_exact_fit_a_stored_blob_and_a_mount_pass(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    push_blob(client, REPOSITORY, FITS)  # 600 + 400 = 1000
    assert usage(app, quota_app) == QUOTA

    push_blob(client, "other", STORED)  # stored already: adds nothing
    mounted = client.post(
        "/v2/third/blobs/uploads/", params={"mount": digest_of(FITS), "from": REPOSITORY}
    )  # a mount adds nothing either
    assert mounted.status_code == 201, mounted.text
    assert usage(app, quota_app) == QUOTA

    response = client.post("/v2/third/blobs/uploads/", params={"digest": digest_of(b"x")}, content=b"x")
    entry = assert_error(response, 403, "DENIED")
    assert entry["detail"]["used"] == QUOTA


def test_a_mount_of_a_blob_the_registry_lacks_starts_an_upload_that_the_quota_refuses(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    before = stored_files(app.services.settings)
    started = client.post(
        f"/v2/{REPOSITORY}/blobs/uploads/", params={"mount": digest_of(TOO_BIG), "from": "other"}
    )
    assert started.status_code == 202  # not mounted: an upload session instead, as the spec says

    response = client.put(started.headers["Location"], params={"digest": digest_of(TOO_BIG)}, content=TOO_BIG)

    assert_refused(response)
    assert_nothing_left(app, client, quota_app, before)


def test_raising_the_quota_lets_the_same_push_through(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    refused = client.post(
        f"/v2/{REPOSITORY}/blobs/uploads/", params={"digest": digest_of(TOO_BIG)}, content=TOO_BIG
    )
    assert refused.status_code == 403
    app.services.db.write_sync(registry_rows.update_properties, quota_app.id, storage_quota=-1)  # unlimited
    app.services.registries.invalidate()

    push_blob(client, REPOSITORY, TOO_BIG)

    assert usage(app, quota_app) == len(STORED) + len(TOO_BIG)


def test_the_correlation_id_of_a_refused_push_tells_its_holder_why(
    app: BerthApp, client: TestClient, quota_app: RegistryRecord
) -> None:
    """What ``berth acr diagnose`` asks for a pusher who may not read the registry's logs."""
    response = client.post(
        f"/v2/{REPOSITORY}/blobs/uploads/", params={"digest": digest_of(TOO_BIG)}, content=TOO_BIG
    )
    assert response.status_code == 403
    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()

    told = client.get(f"/acr/v1/_diagnostics/requests/{response.headers['X-Ms-Correlation-Request-Id']}")

    assert told.status_code == 200, told.text
    document = told.json()
    assert (document["reason"], document["status"]) == ("storage_quota_exceeded", "403")
    assert (document["repository"], document["operation"]) == (REPOSITORY, "Push")
    assert "stores 600 B of its 1000 B storage quota" in document["detail"]
