"""The management API (docs/management-api.md): ARM-shaped registries, tokens, scope maps and
role assignments, and the Graph-shaped users and service principals.

Every method returns the JSON the service answered (unchanged); commands shape it for output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from berth.cli.client.http import raise_for_status, send

PROVIDER = "Microsoft.ContainerRegistry"
ACR_API_VERSION = "2025-04-01"
AUTHORIZATION_API_VERSION = "2022-04-01"
SUBSCRIPTIONS_API_VERSION = "2022-12-01"


def _segment(value: str) -> str:
    return quote(value, safe="")


class ManagementClient:
    def __init__(
        self, client: httpx.Client, server: str, token: Callable[[], str], subscription_id: str
    ) -> None:
        self.client = client
        self.server = server.rstrip("/")
        self._token = token
        self.subscription_id = subscription_id

    # --- plumbing -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        api_version: str | None = ACR_API_VERSION,
    ) -> Any:
        query = dict(params or {})
        if api_version:
            query["api-version"] = api_version
        response = send(
            self.client,
            method,
            f"{self.server}{path}",
            json=json,
            params=query,
            headers={"Authorization": f"Bearer {self._token()}"},
        )
        raise_for_status(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _list(self, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        body = self.request("GET", path, **kwargs)
        return list((body or {}).get("value", []))

    @property
    def subscription_scope(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def resource_group_scope(self, resource_group: str) -> str:
        return f"{self.subscription_scope}/resourceGroups/{_segment(resource_group)}"

    def registry_id(self, resource_group: str, name: str) -> str:
        return f"{self.resource_group_scope(resource_group)}/providers/{PROVIDER}/registries/{_segment(name)}"

    # --- subscriptions ------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        return self._list("/subscriptions", api_version=SUBSCRIPTIONS_API_VERSION)

    # --- registries ---------------------------------------------------------------------

    def list_registries(self, resource_group: str | None = None) -> list[dict[str, Any]]:
        scope = self.resource_group_scope(resource_group) if resource_group else self.subscription_scope
        return self._list(f"{scope}/providers/{PROVIDER}/registries")

    def get_registry(self, resource_group: str, name: str) -> dict[str, Any]:
        return dict(self.request("GET", self.registry_id(resource_group, name)))

    def create_registry(self, resource_group: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PUT", self.registry_id(resource_group, name), json=body))

    def update_registry(self, resource_group: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", self.registry_id(resource_group, name), json=body))

    def delete_registry(self, resource_group: str, name: str) -> None:
        self.request("DELETE", self.registry_id(resource_group, name))

    def list_credentials(self, resource_group: str, name: str) -> dict[str, Any]:
        return dict(self.request("POST", f"{self.registry_id(resource_group, name)}/listCredentials"))

    def regenerate_credential(self, resource_group: str, name: str, password_name: str) -> dict[str, Any]:
        path = f"{self.registry_id(resource_group, name)}/regenerateCredential"
        return dict(self.request("POST", path, json={"name": password_name}))

    def garbage_collect(self, resource_group: str, name: str, dry_run: bool) -> dict[str, Any]:
        path = f"{self.registry_id(resource_group, name)}/garbageCollect"
        return dict(self.request("POST", path, json={"dryRun": dry_run}))

    def purge(self, resource_group: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{self.registry_id(resource_group, name)}/purge", json=body))

    def retention(
        self, resource_group: str, name: str, policy: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        path = f"{self.registry_id(resource_group, name)}/retentionPolicy"
        return dict(
            self.request("PUT", path, json=policy) if policy is not None else self.request("GET", path)
        )

    def list_usages(self, resource_group: str, name: str) -> dict[str, Any]:
        return dict(self.request("GET", f"{self.registry_id(resource_group, name)}/listUsages"))

    def check_name(self, name: str) -> dict[str, Any]:
        path = f"{self.subscription_scope}/providers/{PROVIDER}/checkNameAvailability"
        body = {"name": name, "type": f"{PROVIDER}/registries"}
        return dict(self.request("POST", path, json=body))

    # --- scope maps and tokens ----------------------------------------------------------

    def _child(self, registry_id: str, kind: str, name: str | None = None) -> str:
        return f"{registry_id}/{kind}" + (f"/{_segment(name)}" if name is not None else "")

    def list_children(self, registry_id: str, kind: str) -> list[dict[str, Any]]:
        return self._list(self._child(registry_id, kind))

    def get_child(self, registry_id: str, kind: str, name: str) -> dict[str, Any]:
        return dict(self.request("GET", self._child(registry_id, kind, name)))

    def put_child(self, registry_id: str, kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PUT", self._child(registry_id, kind, name), json=body))

    def patch_child(self, registry_id: str, kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", self._child(registry_id, kind, name), json=body))

    def delete_child(self, registry_id: str, kind: str, name: str) -> None:
        self.request("DELETE", self._child(registry_id, kind, name))

    def generate_credentials(
        self, registry_id: str, token_id: str, name: str | None, expiry: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"tokenId": token_id}
        if name:
            body["name"] = name
        if expiry:
            body["expiry"] = expiry
        return dict(self.request("POST", f"{registry_id}/generateCredentials", json=body))

    # --- role assignments and definitions -----------------------------------------------

    def role_definitions(self, scope: str) -> list[dict[str, Any]]:
        path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleDefinitions"
        return self._list(path, api_version=AUTHORIZATION_API_VERSION)

    def role_assignments(self, scope: str, principal_id: str | None = None) -> list[dict[str, Any]]:
        params = {"$filter": f"principalId eq '{principal_id}'"} if principal_id else None
        path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments"
        return self._list(path, params=params, api_version=AUTHORIZATION_API_VERSION)

    def create_role_assignment(
        self, scope: str, assignment_id: str, role_definition_id: str, principal_id: str
    ) -> dict[str, Any]:
        path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{assignment_id}"
        body = {"properties": {"roleDefinitionId": role_definition_id, "principalId": principal_id}}
        return dict(self.request("PUT", path, json=body, api_version=AUTHORIZATION_API_VERSION))

    def delete_role_assignment(self, assignment_resource_id: str) -> None:
        self.request("DELETE", assignment_resource_id, api_version=AUTHORIZATION_API_VERSION)

    # --- users and service principals (Graph) -------------------------------------------

    def graph(self, method: str, path: str, json: Any = None) -> Any:
        return self.request(method, f"/v1.0{path}", json=json, api_version=None)

    def graph_list(self, kind: str) -> list[dict[str, Any]]:
        return list((self.graph("GET", f"/{kind}") or {}).get("value", []))

    def graph_get(self, kind: str, key: str) -> dict[str, Any]:
        return dict(self.graph("GET", f"/{kind}/{_segment(key)}"))

    def graph_create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.graph("POST", f"/{kind}", json=body))

    def graph_update(self, kind: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.graph("PATCH", f"/{kind}/{_segment(key)}", json=body))

    def graph_delete(self, kind: str, key: str) -> None:
        self.graph("DELETE", f"/{kind}/{_segment(key)}")

    def add_password(self, sp_id: str, display_name: str, end: str | None) -> dict[str, Any]:
        credential: dict[str, Any] = {"displayName": display_name}
        if end:
            credential["endDateTime"] = end
        path = f"/servicePrincipals/{_segment(sp_id)}/addPassword"
        return dict(self.graph("POST", path, json={"passwordCredential": credential}))

    def remove_password(self, sp_id: str, key_id: str) -> None:
        self.graph("POST", f"/servicePrincipals/{_segment(sp_id)}/removePassword", json={"keyId": key_id})
