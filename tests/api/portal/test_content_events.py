"""Deletes made in the portal are repository events like the registry API's own: the same
operation names and columns, with the signed-in user as the identity, so ``acr logs`` and
diagnose show who removed what."""

from __future__ import annotations

import base64
from typing import Any

from berth.app import BerthApp
from berth.events.recorder import EventRecorder
from tests.api.management.arm import SERVICE_URL, ArmCaller, TestClient
from tests.api.management.conftest import owner
from tests.api.oci import push_image
from tests.api.portal.test_session import csrf_of, sign_in
from tests.support.access_setup import AccessSetup

__all__ = ["owner"]


def _repository_events(app: BerthApp, owner: ArmCaller) -> list[dict[str, Any]]:
    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()
    rows: list[dict[str, Any]] = owner.ok(
        owner.get(f"{AccessSetup.for_app(app).registry_id()}/logs/repository")
    )["value"]
    return rows


def test_deletes_in_the_portal_are_repository_events(
    app: BerthApp, client: TestClient, owner: ArmCaller
) -> None:
    password, _ = AccessSetup.for_app(app).enable_admin()
    username = "default"  # the admin user is the registry name
    with TestClient(app, base_url=SERVICE_URL) as pusher:
        pusher.headers["Authorization"] = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        )
        _, first = push_image(pusher, "web/app", "v1", seed="one")
        push_image(pusher, "web/app", "v2", seed="two")
        push_image(pusher, "web/old", "v1", seed="three")

    sign_in(client)
    csrf = csrf_of(client)
    changes = [
        ("/portal/r/default/tag/delete", {"repo": "web/app", "tag": "v2"}),
        ("/portal/r/default/manifest/delete", {"repo": "web/app", "digest": first}),
        ("/portal/r/default/repository/delete", {"repo": "web/old", "confirm": "web/old"}),
    ]
    for path, form in changes:
        answer = client.post(path, data={"csrf": csrf, **form}, follow_redirects=False)
        assert answer.status_code == 303, answer.text

    rows = [r for r in _repository_events(app, owner) if r["OperationName"] in ("Delete", "Untag")]
    by_operation = {(r["OperationName"], r["Repository"]): r for r in rows}
    assert set(by_operation) == {("Untag", "web/app"), ("Delete", "web/app"), ("Delete", "web/old")}
    assert by_operation[("Untag", "web/app")]["Tag"] == "v2"
    assert by_operation[("Delete", "web/app")]["Digest"] == first
    assert by_operation[("Delete", "web/app")]["Tag"] == "v1"
    assert by_operation[("Delete", "web/old")]["Tag"] == "v1"
    for row in rows:
        assert row["Identity"] == "admin@localhost"
        assert row["IdentityKind"] == "user"
        assert row["ResultType"] == "Succeeded"
        assert row["CorrelationId"]
