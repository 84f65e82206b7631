"""An in-memory stand-in for the management API's Graph and role-assignment operations."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.unit.cli.conftest import SUBSCRIPTION

ROLE_PREFIX = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions"
ROLES = {"7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull", "8311e382-0749-4cb8-b61a-304f252e45ec": "AcrPush"}


class FakeDirectory:
    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = [
            {
                "id": "u-1",
                "userPrincipalName": "jane@berth.test",
                "displayName": "Jane",
                "accountEnabled": True,
            }
        ]
        self.sps: list[dict[str, Any]] = []
        self.assignments: dict[str, dict[str, Any]] = {}
        self.removed_keys: list[str] = []

    def add_sp(self, name: str) -> dict[str, Any]:
        sp = {
            "id": f"sp-{len(self.sps)}",
            "appId": str(uuid.uuid4()),
            "displayName": name,
            "passwordCredentials": [],
        }
        self.sps.append(sp)
        return sp

    def _find(self, kind: str, key: str) -> dict[str, Any] | None:
        items = self.users if kind == "users" else self.sps
        fields = ("id", "userPrincipalName") if kind == "users" else ("id", "appId")
        return next((i for i in items if key in (i.get(f) for f in fields)), None)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body: Any = json.loads(request.content) if request.content else {}
        parts = path.strip("/").split("/")
        if parts[0] == "v1.0":
            return self._graph(request.method, parts[1:], body)
        if "roleDefinitions" in path:
            value = [
                {
                    "id": f"{ROLE_PREFIX}/{rid}",
                    "name": rid,
                    "properties": {"roleName": n, "type": "BuiltInRole"},
                }
                for rid, n in ROLES.items()
            ]
            return httpx.Response(200, json={"value": value})
        if path.endswith("/roleAssignments"):
            assignments = list(self.assignments.values())
            principal = request.url.params.get("$filter", "").partition("'")[2].rstrip("'")
            if principal:
                assignments = [a for a in assignments if a["properties"]["principalId"] == principal]
            return httpx.Response(200, json={"value": assignments})
        if "/roleAssignments/" in path:
            if request.method == "PUT":
                scope = path.split("/providers/Microsoft.Authorization/")[0]
                assignment = {
                    "id": path,
                    "name": parts[-1],
                    "properties": {**body["properties"], "scope": scope},
                }
                self.assignments[path] = assignment
                return httpx.Response(201, json=assignment)
            if request.method == "DELETE":
                return httpx.Response(200 if self.assignments.pop(path, None) else 204)
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": path}})

    def _graph(self, method: str, parts: list[str], body: Any) -> httpx.Response:
        kind = parts[0]
        if len(parts) == 1 and method == "GET":
            return httpx.Response(200, json={"value": self.users if kind == "users" else self.sps})
        if len(parts) == 1 and method == "POST":
            return httpx.Response(201, json=self.add_sp(body["displayName"]))
        found = self._find(kind, parts[1])
        if found is None:
            return httpx.Response(
                404, json={"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
            )
        if len(parts) == 3 and parts[2] == "addPassword":
            key = {"keyId": str(uuid.uuid4()), "displayName": body["passwordCredential"]["displayName"]}
            found["passwordCredentials"].append(key)
            return httpx.Response(200, json={**key, "secretText": f"secret-{key['keyId'][:4]}"})
        if len(parts) == 3 and parts[2] == "removePassword":
            self.removed_keys.append(body["keyId"])
            found["passwordCredentials"] = [
                c for c in found["passwordCredentials"] if c["keyId"] != body["keyId"]
            ]
            return httpx.Response(204)
        if method == "DELETE":
            self.sps.remove(found)
            return httpx.Response(204)
        return httpx.Response(200, json=found)
