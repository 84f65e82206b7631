from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.cli.conftest import SUBSCRIPTION, TENANT, Outcome
from tests.unit.cli.fake_management import FakeDirectory

REGISTRIES = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default/providers/Microsoft.ContainerRegistry"
SCOPE = f"{REGISTRIES}/registries/r1"


@pytest.fixture
def directory(signed_in: Callable[[Any], None]) -> FakeDirectory:
    fake = FakeDirectory()
    signed_in(fake)
    return fake


def test_create_for_rbac_prints_azs_four_fields_and_assigns_the_role(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    outcome = cli("ad", "sp", "create-for-rbac", "--name", "ci", "--role", "AcrPush", "--scopes", SCOPE)
    assert outcome.code == 0, outcome.stderr
    created = json.loads(outcome.stdout)
    assert set(created) == {"appId", "displayName", "password", "tenant"}
    assert created["displayName"] == "ci"
    assert created["tenant"] == TENANT
    assert created["password"].startswith("secret-")
    assert [a["properties"]["scope"] for a in directory.assignments.values()] == [SCOPE]
    warnings = outcome.stderr.splitlines()
    assert warnings[0] == f"WARNING: Creating 'AcrPush' role assignment under scope '{SCOPE}'"
    assert warnings[1].startswith("WARNING: The output includes credentials that you must protect.")


def test_create_for_rbac_again_resets_the_existing_principal(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    first = json.loads(cli("ad", "sp", "create-for-rbac", "--name", "ci").stdout)
    again = cli("ad", "sp", "create-for-rbac", "--name", "ci")
    assert json.loads(again.stdout)["appId"] == first["appId"]
    assert "Found an existing application instance" in again.stderr
    assert len(directory.sps) == 1
    assert len(directory.sps[0]["passwordCredentials"]) == 1
    assert cli("ad", "sp", "create-for-rbac", "--role", "AcrPull").stderr == (
        "ERROR: usage error: To create role assignments, specify both --role and --scopes.\n"
    )


def test_credential_reset_replaces_passwords_unless_appended(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    sp = directory.add_sp("ci")
    reset = json.loads(cli("ad", "sp", "credential", "reset", "--id", sp["appId"]).stdout)
    assert set(reset) == {"appId", "password", "tenant"}
    cli("ad", "sp", "credential", "reset", "--id", sp["appId"], "--append")
    listed = json.loads(cli("ad", "sp", "credential", "list", "--id", sp["appId"]).stdout)
    assert len(listed) == 2
    assert all("secretText" not in c for c in listed)
    cli("ad", "sp", "credential", "reset", "--id", sp["appId"])
    assert len(json.loads(cli("ad", "sp", "credential", "list", "--id", sp["appId"]).stdout)) == 1
    assert cli("ad", "sp", "credential", "reset", "--id", "jane@berth.test").stderr == (
        "ERROR: 'jane@berth.test' is a user, not a service principal.\n"
    )


def test_users_and_service_principals_list_and_delete(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    sp = directory.add_sp("ci")
    assert (
        cli("ad", "user", "list", "--query", "[].userPrincipalName", "-o", "tsv").stdout
        == "jane@berth.test\n"
    )
    assert json.loads(cli("ad", "sp", "list", "--display-name", "C").stdout)[0]["appId"] == sp["appId"]
    assert cli("ad", "sp", "delete", "--id", sp["appId"]).code == 0
    assert directory.sps == []
