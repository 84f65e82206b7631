"""``az role assignment`` (assignee by UPN, appId and object id) and ``az ad sp``/``az ad user``."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.az.azcli import Az
from tests.e2e.az.conftest import AzService

# The first test of a session may install azure-cli into its cache (minutes on a busy machine).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def _registry_scope(az: Az, name: str) -> str:
    created = az.json("acr", "create", "-n", name, "-g", "roles-rg", "--sku", "Premium")
    scope: str = created["id"]
    return scope


def test_role_assignments_by_upn_app_id_and_object_id(owner_az: Az, az_service: AzService) -> None:
    scope = _registry_scope(owner_az, "roles1")
    upn = f"bob-{uuid.uuid4().hex[:6]}@{az_service.server.domain}"
    user = owner_az.json(
        "ad",
        "user",
        "create",
        "--display-name",
        "Bob",
        "--user-principal-name",
        upn,
        "--password",
        "Bob-Passw0rd!",
    )
    sp = owner_az.json("ad", "sp", "create-for-rbac", "-n", f"roles-sp-{uuid.uuid4().hex[:6]}")
    sp_object = owner_az.json("ad", "sp", "show", "--id", sp["appId"])

    by_upn = owner_az.json(
        "role", "assignment", "create", "--assignee", upn, "--role", "AcrPull", "--scope", scope
    )
    by_app_id = owner_az.json(
        "role", "assignment", "create", "--assignee", sp["appId"], "--role", "AcrPush", "--scope", scope
    )
    by_object_id = owner_az.json(
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        sp_object["id"],
        "--assignee-principal-type",
        "ServicePrincipal",
        "--role",
        "Reader",
        "--scope",
        scope,
    )
    listed = owner_az.json("role", "assignment", "list", "--scope", scope)
    for_sp = owner_az.json("role", "assignment", "list", "--assignee", sp["appId"], "--scope", scope)
    owner_az.run("role", "assignment", "delete", "--assignee", upn, "--role", "AcrPull", "--scope", scope)
    owner_az.run("role", "assignment", "delete", "--ids", by_object_id["id"])
    after = owner_az.json("role", "assignment", "list", "--scope", scope)

    assert by_upn["principalId"] == user["id"]
    assert by_upn["principalType"] == "User"
    assert by_upn["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert by_app_id["principalId"] == sp_object["id"]
    assert by_app_id["principalType"] == "ServicePrincipal"
    assert by_object_id["principalId"] == sp_object["id"]
    assert {(a["principalName"], a["roleDefinitionName"]) for a in listed} == {
        (upn, "AcrPull"),
        (sp["appId"], "AcrPush"),
        (sp["appId"], "Reader"),
    }
    assert {a["roleDefinitionName"] for a in for_sp} == {"AcrPush", "Reader"}
    assert [(a["principalId"], a["roleDefinitionName"]) for a in after] == [(sp_object["id"], "AcrPush")]


def test_service_principal_lifecycle(owner_az: Az, fresh_az: Az, az_service: AzService) -> None:
    name = f"ci-{uuid.uuid4().hex[:6]}"
    scope = _registry_scope(owner_az, "roles1")
    created = owner_az.json("ad", "sp", "create-for-rbac", "-n", name, "--role", "AcrPush", "--scopes", scope)
    listed = owner_az.json("ad", "sp", "list", "--display-name", name)
    shown = owner_az.json("ad", "sp", "show", "--id", created["appId"])
    assignments = owner_az.json(
        "role", "assignment", "list", "--assignee", created["appId"], "--scope", scope
    )
    reset = owner_az.json("ad", "sp", "credential", "reset", "--id", created["appId"])
    old_refused = fresh_az.fails(
        "login",
        "--service-principal",
        "-u",
        created["appId"],
        "-p",
        created["password"],
        "--tenant",
        created["tenant"],
    )
    fresh_az.run(
        "login",
        "--service-principal",
        "-u",
        created["appId"],
        "-p",
        reset["password"],
        "--tenant",
        reset["tenant"],
    )
    signed_in = fresh_az.json("account", "show")
    owner_az.run("ad", "sp", "delete", "--id", created["appId"])
    after = owner_az.json("ad", "sp", "list", "--display-name", name)

    assert created["displayName"] == name
    assert created["tenant"] == az_service.tenant_id
    assert [s["appId"] for s in listed] == [created["appId"]]
    assert shown["displayName"] == name
    assert shown["servicePrincipalNames"] == [created["appId"]]
    assert [a["roleDefinitionName"] for a in assignments] == ["AcrPush"]
    assert reset["appId"] == created["appId"]
    assert reset["password"] != created["password"]
    assert "AADSTS7000215" in old_refused
    assert signed_in["user"] == {"name": created["appId"], "type": "servicePrincipal"}
    assert after == []


def test_signed_in_user(owner_az: Az, az_service: AzService) -> None:
    me = owner_az.json("ad", "signed-in-user", "show")

    assert me["userPrincipalName"] == az_service.owner
