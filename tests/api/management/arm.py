"""Speaking the management API from tests: sign-in, ARM paths, a caller with a bearer token.

Everything goes over HTTP to the in-process app (no reaching into berth's internals), so the
helpers exercise the same endpoints a client would.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client and warns once, at import,
    # when it falls back to httpx (which berth depends on). The client behaves the same.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

SERVICE_URL = "http://localhost:5000"
OWNER_PASSWORD = "owner-password-for-tests"
API_VERSION = "2025-11-01"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
PROVIDER = "Microsoft.ContainerRegistry"
ROLE_IDS = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
}


def sign_in(
    client: TestClient,
    *,
    username: str | None = None,
    password: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> str:
    """A management access token from the directory (password or client-credentials grant)."""
    if client_id is not None:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret or "",
        }
    else:
        form = {"grant_type": "password", "username": username or "", "password": password or ""}
    response = client.post("/organizations/oauth2/v2.0/token", data={**form, "scope": MANAGEMENT_SCOPE})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def assert_arm_error(response: httpx.Response, status: int, code: str) -> str:
    """ARM's envelope ``{"error": {"code", "message"}}`` with ``code``; returns the message."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert message
    return message


@dataclass
class ArmCaller:
    """A signed-in caller: HTTP verbs with its bearer token and ``api-version``, plus ARM paths."""

    client: TestClient
    token: str
    subscription_id: str
    object_id: str = ""

    # --- paths ----------------------------------------------------------------------------

    @property
    def subscription(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def group(self, resource_group: str = "rg1") -> str:
        return f"{self.subscription}/resourceGroups/{resource_group}"

    def registry(self, name: str, resource_group: str = "rg1") -> str:
        return f"{self.group(resource_group)}/providers/{PROVIDER}/registries/{name}"

    def role_definition_id(self, role: str) -> str:
        return f"{self.subscription}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_IDS[role]}"

    # --- HTTP -----------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        params = {"api-version": API_VERSION, **kwargs.pop("params", {})}
        response: httpx.Response = self.client.request(method, path, headers=headers, params=params, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body if body is not None else {}, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    # --- arranging state through the API ---------------------------------------------------

    def create_registry(self, name: str, resource_group: str = "rg1", **properties: Any) -> dict[str, Any]:
        body = {"location": "local", "sku": {"name": "Premium"}, "properties": properties}
        result: dict[str, Any] = self.ok(self.put(self.registry(name, resource_group), body), 201)
        return result

    def create_service_principal(self, name: str) -> tuple[dict[str, Any], str]:
        """A service principal and one client secret for it."""
        sp: dict[str, Any] = self.ok(self.post("/v1.0/servicePrincipals", {"displayName": name}), 201)
        added = self.ok(self.post(f"/v1.0/servicePrincipals/{sp['id']}/addPassword", {}))
        return sp, added["secretText"]

    def assign(self, principal_id: str, role: str, scope: str, name: str | None = None) -> dict[str, Any]:
        path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name or uuid.uuid4()}"
        body = {
            "properties": {"roleDefinitionId": self.role_definition_id(role), "principalId": principal_id}
        }
        result: dict[str, Any] = self.ok(self.put(path, body), 201)
        return result

    def make_principal(self, role: str | None, scope: str | None = None, name: str = "tester") -> ArmCaller:
        """A new service principal holding ``role`` at ``scope`` (default: the subscription), signed in."""
        sp, secret = self.create_service_principal(name)
        if role is not None:
            self.assign(sp["id"], role, scope or self.subscription)
        token = sign_in(self.client, client_id=sp["appId"], client_secret=secret)
        return ArmCaller(self.client, token, self.subscription_id, sp["id"])
