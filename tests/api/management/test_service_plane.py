"""The service plane around the API: the OpenAPI document, unknown paths, the directory, /healthz."""

from __future__ import annotations

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    registry = (
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        "/providers/Microsoft.ContainerRegistry/registries/{registryName}"
    )
    assert set(paths[registry]) == {"get", "put", "patch", "delete"}
    assert "/v1.0/servicePrincipals/{servicePrincipalId}/addPassword" in paths
    assert not [p for p in paths if "oauth2" in p or "healthz" in p or "well-known" in p]
    operations = [op for item in paths.values() for op in item.values()]
    assert all("422" not in op["responses"] for op in operations)
    assert all("400" in op["responses"] for op in operations)
    assert "ErrorResponse" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["directory"]["scheme"] == "bearer"


def test_unknown_management_paths_answer_in_arms_envelope(owner: ArmCaller) -> None:
    assert_arm_error(owner.get(f"{owner.subscription}/providers/Microsoft.Nothing/things"), 404, "NotFound")
    assert_arm_error(owner.get("/v1.0/groups"), 404, "NotFound")
    not_allowed = owner.post("/subscriptions")
    assert_arm_error(not_allowed, 405, "MethodNotAllowed")
    assert not_allowed.headers["Allow"] == "GET"


def test_other_unknown_service_plane_paths_answer_in_arms_envelope_too(client: TestClient) -> None:
    missing = client.get("/no/such/page")
    wrong_method = client.post("/healthz")

    assert_arm_error(missing, 404, "NotFound")
    assert "/no/such/page" in missing.json()["error"]["message"]
    assert_arm_error(wrong_method, 405, "MethodNotAllowed")
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD"}


def test_health_and_the_directory_still_answer(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["storage"] in ("ok", "low")  # "low" on a machine with little free space
    discovery = client.get("/organizations/v2.0/.well-known/openid-configuration")
    assert discovery.status_code == 200
    assert discovery.json()["token_endpoint"].endswith("/oauth2/v2.0/token")
