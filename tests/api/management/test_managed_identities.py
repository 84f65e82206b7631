"""User-assigned managed identities as ARM resources, their host credentials, and the
``/msi/token`` endpoint a host calls with ``X-IDENTITY-HEADER`` (App Service's protocol)."""

from __future__ import annotations

from typing import Any

import jwt

from berth.app import BerthApp
from berth.events.columns import from_columns
from berth.events.recorder import EventRecorder
from berth.troubleshoot.explain import RegistryFacts, explain
from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
RESOURCE = "https://containerregistry.azure.net"


def _identity_path(owner: ArmCaller, name: str, group: str = "rg1") -> str:
    return f"{owner.group(group)}/providers/{TYPE}/{name}"


def _msi(client: TestClient, header: str | None, **params: str) -> Any:
    headers = {"X-IDENTITY-HEADER": header} if header is not None else {}
    query = {"api-version": "2019-08-01", "resource": RESOURCE, **params}
    return client.get("/msi/token", params=query, headers=headers)


def test_create_get_list_and_delete_an_identity(owner: ArmCaller) -> None:
    path = _identity_path(owner, "builder")

    created = owner.ok(owner.put(path, {"location": "local", "tags": {"team": "ci"}}), 201)
    again = owner.ok(owner.put(path, {"location": "local", "tags": {"team": "cd"}}))
    listed = owner.ok(owner.get(f"{owner.group()}/providers/{TYPE}"))["value"]
    everywhere = owner.ok(owner.get(f"{owner.subscription}/providers/{TYPE}"))["value"]

    assert created["id"] == path
    assert created["type"] == TYPE
    assert set(created["properties"]) == {"tenantId", "principalId", "clientId"}
    assert again["properties"] == created["properties"]
    assert again["tags"] == {"team": "cd"}
    assert [i["name"] for i in listed] == [i["name"] for i in everywhere] == ["builder"]
    assert owner.delete(path).status_code == 200
    assert owner.delete(path).status_code == 204
    assert_arm_error(owner.get(path), 404, "ResourceNotFound")
    assert_arm_error(owner.put(_identity_path(owner, "-bad"), {}), 400, "InvalidParameter")


def test_a_host_with_its_credential_gets_tokens_that_pull(
    app: BerthApp, owner: ArmCaller, client: TestClient
) -> None:
    path = _identity_path(owner, "vm-puller")
    identity = owner.ok(owner.put(path, {}), 201)
    owner.assign(identity["properties"]["principalId"], "AcrPull", owner.registry("default", "default"))
    host = owner.ok(owner.post(f"{path}/hostCredentials", {"host": "vm-1"}), 201)
    listed = owner.ok(owner.get(f"{path}/hostCredentials"))["value"]

    assert host["identityEndpoint"].endswith("/msi/token")
    assert [h["host"] for h in listed] == ["vm-1"]
    assert all(h["identityHeader"] is None for h in listed)
    answer = _msi(client, host["identityHeader"], client_id=identity["properties"]["clientId"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["appid"] == identity["properties"]["clientId"]
    assert claims["oid"] == identity["properties"]["principalId"]
    exchanged = client.post(
        "/oauth2/exchange",
        data={
            "grant_type": "access_token",
            "service": "localhost:5000",
            "access_token": body["access_token"],
        },
    )
    assert exchanged.status_code == 200, exchanged.text

    assert owner.delete(f"{path}/hostCredentials/vm-1").status_code == 204
    assert _msi(client, host["identityHeader"]).status_code == 401


def test_refusals_are_events_with_verdicts(app: BerthApp, owner: ArmCaller, client: TestClient) -> None:
    path = _identity_path(owner, "vm-two")
    owner.ok(owner.put(path, {}), 201)
    host = owner.ok(owner.post(f"{path}/hostCredentials", {"host": "vm-2"}), 201)
    secret = host["identityHeader"]

    assert _msi(client, secret[:-1] + ("x" if secret[-1] != "x" else "y")).status_code == 401
    assert _msi(client, None).status_code == 401
    assert _msi(client, secret, client_id="0c4a1c3e-0000-4000-8000-000000000000").status_code == 400
    assert _msi(client, secret, resource="https://vault.azure.net").status_code == 400

    observer = app.services.observer
    assert isinstance(observer, EventRecorder)
    observer.flush()
    rows = owner.ok(
        owner.get(f"{owner.registry('default', 'default')}/logs/login", params={"status": "failed"})
    )
    events = [from_columns(r) for r in rows["value"]]
    facts = RegistryFacts("default", owner.registry("default", "default"), "localhost:5000")
    codes = sorted({v.code for e in events if (v := explain(e, facts)) is not None})
    assert codes == ["MANAGED_IDENTITY_HOST_SECRET_INVALID", "MANAGED_IDENTITY_NOT_ASSIGNED"]
    assert all(secret not in str(e) for e in events)
