"""``GET|PATCH|DELETE /acr/v1/<name>``: properties, changeable attributes, deletion."""

from __future__ import annotations

import pytest

from berth.app import BerthApp
from tests.api.acr.support import (
    ACR_TIME,
    ALL_ENABLED,
    LOGIN_SERVER,
    OperationRecorder,
    attributes_of,
    patch,
)
from tests.api.oci import TestClient, assert_error, push_image

REPO = "library/hello"


@pytest.fixture
def pushed(client: TestClient) -> tuple[str, str]:
    """Two manifests, three tags: v1 and latest on the first, v2 on the second."""
    _, first = push_image(client, REPO, "v1", seed="one")
    _, second = push_image(client, REPO, "v2", seed="two")
    push_image(client, REPO, "latest", seed="one")
    return first, second


@pytest.mark.parametrize("path", ["/acr/v1/library%2Fhello", "/acr/v1/library/hello"])
def test_properties_have_acrs_shape(client: TestClient, pushed: tuple[str, str], path: str) -> None:
    response = client.get(path, params={"api-version": "2021-07-01"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {
        "registry",
        "imageName",
        "createdTime",
        "lastUpdateTime",
        "manifestCount",
        "tagCount",
        "changeableAttributes",
    }
    assert body["registry"] == LOGIN_SERVER
    assert body["imageName"] == REPO
    assert body["manifestCount"] == 2
    assert body["tagCount"] == 3
    assert ACR_TIME.match(body["createdTime"]), body["createdTime"]
    assert ACR_TIME.match(body["lastUpdateTime"]), body["lastUpdateTime"]
    assert body["lastUpdateTime"] >= body["createdTime"]
    assert attributes_of(body) == ALL_ENABLED


def test_properties_of_a_single_component_name(client: TestClient) -> None:
    push_image(client, "hello", "v1")

    body = client.get("/acr/v1/hello").json()

    assert body["imageName"] == "hello"
    assert (body["manifestCount"], body["tagCount"]) == (1, 1)


def test_properties_of_a_deeply_nested_name_encoded_and_not(client: TestClient) -> None:
    push_image(client, "a/b/c", "v1")

    assert client.get("/acr/v1/a%2Fb%2Fc").json()["imageName"] == "a/b/c"
    assert client.get("/acr/v1/a/b%2Fc").json()["imageName"] == "a/b/c"
    assert client.get("/acr/v1/a/b/c").json()["imageName"] == "a/b/c"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_repository_is_404_name_unknown(client: TestClient, method: str) -> None:
    response = client.request(method, "/acr/v1/nothing%2Fhere", json={"readEnabled": True})

    entry = assert_error(response, 404, "NAME_UNKNOWN")
    assert entry["detail"] == {"name": "nothing/here"}


def test_invalid_repository_name_is_400_name_invalid(client: TestClient) -> None:
    assert_error(client.get("/acr/v1/Upper%2FCase"), 400, "NAME_INVALID")


def test_patch_changes_only_the_attributes_given(client: TestClient, pushed: tuple[str, str]) -> None:
    before = client.get("/acr/v1/library/hello").json()

    response = patch(client, "/acr/v1/library%2Fhello", writeEnabled=False, listEnabled=False)

    body = response.json()
    assert attributes_of(body) == {**ALL_ENABLED, "writeEnabled": False, "listEnabled": False}
    assert body["imageName"] == REPO
    assert body["manifestCount"] == 2
    assert body["createdTime"] == before["createdTime"]
    assert client.get("/acr/v1/library/hello").json()["changeableAttributes"] == attributes_of(body)

    again = patch(client, "/acr/v1/library/hello", writeEnabled=True)

    assert attributes_of(again.json()) == {**ALL_ENABLED, "listEnabled": False}


def test_patch_with_an_empty_object_changes_nothing(client: TestClient, pushed: tuple[str, str]) -> None:
    response = patch(client, "/acr/v1/library/hello")

    assert attributes_of(response.json()) == ALL_ENABLED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", None),
        (b"", None),
        (b"[true]", None),
        (b'"deleteEnabled"', None),
        (b'{"deleteEnabled": "false"}', "deleteEnabled"),
        (b'{"writeEnabled": 0}', "writeEnabled"),
        (b'{"readEnabled": null}', "readEnabled"),
        (b'{"listEnabled": true, "teleportEnabled": true}', "teleportEnabled"),
        (b'{"can_delete": false}', "can_delete"),
    ],
)
def test_patch_with_a_bad_body_is_400_naming_the_field(
    client: TestClient, pushed: tuple[str, str], body: bytes, field: str | None
) -> None:
    response = client.patch(
        "/acr/v1/library/hello", content=body, headers={"Content-Type": "application/json"}
    )

    entry = assert_error(response, 400, "BAD_REQUEST")
    if field is None:
        assert "JSON object" in entry["message"]
    else:
        assert field in entry["message"]
        assert entry["detail"] == {"field": field}
    assert attributes_of(client.get("/acr/v1/library/hello").json()) == ALL_ENABLED


def test_delete_answers_202_with_what_was_deleted(client: TestClient, pushed: tuple[str, str]) -> None:
    first, second = pushed

    response = client.delete("/acr/v1/library%2Fhello")

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"manifestsDeleted", "tagsDeleted"}
    assert sorted(body["manifestsDeleted"]) == sorted([first, second])
    assert sorted(body["tagsDeleted"]) == ["latest", "v1", "v2"]


def test_a_deleted_repository_is_gone_everywhere(client: TestClient, pushed: tuple[str, str]) -> None:
    push_image(client, "other", "v1")

    assert client.delete("/acr/v1/library/hello").status_code == 202

    assert_error(client.get("/acr/v1/library/hello"), 404, "NAME_UNKNOWN")
    assert_error(client.get("/acr/v1/library/hello/_tags"), 404, "NAME_UNKNOWN")
    assert_error(client.get("/v2/library/hello/tags/list"), 404, "NAME_UNKNOWN")
    assert_error(client.get("/v2/library/hello/manifests/v1"), 404, "NAME_UNKNOWN")
    assert client.get("/v2/_catalog").json()["repositories"] == ["other"]
    assert_error(client.delete("/acr/v1/library/hello"), 404, "NAME_UNKNOWN")


def test_the_repository_can_be_pushed_again_after_deletion(
    client: TestClient, pushed: tuple[str, str]
) -> None:
    client.delete("/acr/v1/library/hello")

    push_image(client, REPO, "v3", seed="three")

    body = client.get("/acr/v1/library/hello").json()
    assert (body["manifestCount"], body["tagCount"]) == (1, 1)
    assert attributes_of(body) == ALL_ENABLED


def test_delete_and_untag_are_recorded_as_repository_events(
    app: BerthApp, client: TestClient, pushed: tuple[str, str]
) -> None:
    first, _ = pushed
    recorder = OperationRecorder()
    app.services.observer = recorder

    assert client.delete("/acr/v1/library/hello/_tags/latest").status_code == 202
    assert client.delete("/acr/v1/library/hello").status_code == 202

    operations = recorder.operations
    assert [(op.operation, op.repository) for op in operations] == [("Untag", REPO), ("Delete", REPO)]
    assert (operations[0].tag, operations[0].digest) == ("latest", first)
    assert operations[1].tag == "v1,v2"
    routes = [summary.route for summary in recorder.summaries]
    assert routes == ["acr-tag-delete", "acr-repository-delete"]


def test_refused_operations_record_no_event(
    app: BerthApp, client: TestClient, pushed: tuple[str, str]
) -> None:
    patch(client, "/acr/v1/library/hello", deleteEnabled=False)
    recorder = OperationRecorder()
    app.services.observer = recorder

    assert_error(client.delete("/acr/v1/library/hello"), 403, "DENIED")
    assert_error(client.delete("/acr/v1/library/hello/_tags/v1"), 403, "DENIED")

    assert recorder.operations == []


def test_repositories_of_other_registries_are_separate(
    client: TestClient, other_registry: object, pushed: tuple[str, str]
) -> None:
    other = "myreg.localhost:5000"
    push_image(client, REPO, "only-here", host=other)

    mine = client.get("/acr/v1/library/hello").json()
    theirs = client.get("/acr/v1/library/hello", headers={"Host": other}).json()

    assert mine["tagCount"] == 3
    assert theirs["tagCount"] == 1
    assert theirs["registry"] == other
    patch(client, "/acr/v1/library/hello", listEnabled=False)
    theirs = client.get("/acr/v1/library/hello", headers={"Host": other}).json()
    assert attributes_of(theirs)["listEnabled"] is True
