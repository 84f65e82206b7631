"""``GET /v2/`` and the headers every registry-plane response carries."""

from __future__ import annotations

import pytest

from tests.api.oci import TestClient, assert_error


def test_version_check_answers_200_with_an_empty_json_object(client: TestClient) -> None:
    response = client.get("/v2/")

    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.headers["content-type"].startswith("application/json")


def test_version_check_answers_head(client: TestClient) -> None:
    response = client.head("/v2/")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_version_check_also_answers_without_the_trailing_slash(client: TestClient) -> None:
    response = client.get("/v2")

    assert response.status_code == 200
    assert response.json() == {}


def test_every_response_carries_a_correlation_id(client: TestClient) -> None:
    first = client.get("/v2/")
    second = client.get("/v2/")

    assert first.headers["X-Ms-Correlation-Request-Id"]
    assert first.headers["X-Ms-Correlation-Request-Id"] != second.headers["X-Ms-Correlation-Request-Id"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/", 200),
        ("GET", "/v2/_catalog", 200),
        ("GET", "/v2/nothing/tags/list", 404),
        ("GET", "/v2/nothing/manifests/latest", 404),
        ("HEAD", "/v2/nothing/manifests/latest", 404),
        ("GET", "/v2/nothing/blobs/sha256:" + "0" * 64, 404),
        ("HEAD", "/v2/nothing/blobs/sha256:" + "0" * 64, 404),
        ("DELETE", "/v2/nothing/blobs/sha256:" + "0" * 64, 404),
        ("POST", "/v2/nothing/blobs/uploads/", 202),
        ("GET", "/v2/nothing/referrers/sha256:" + "0" * 64, 200),
        ("GET", "/v2/Invalid/tags/list", 400),
        ("PATCH", "/v2/", 405),
        ("GET", "/v2/no/such/endpoint", 404),
    ],
)
def test_api_version_header_on_success_and_error(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)

    assert response.status_code == status
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unsupported_method_is_405_unsupported_with_allow(client: TestClient) -> None:
    response = client.patch("/v2/")

    assert_error(response, 405, "UNSUPPORTED")
    assert response.headers["Allow"] == "GET, HEAD"


def test_unknown_path_under_v2_is_json_not_found(client: TestClient) -> None:
    response = client.get("/v2/no/such/endpoint")

    assert_error(response, 404, "NOT_FOUND")
