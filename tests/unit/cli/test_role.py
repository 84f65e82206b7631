from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.cli.conftest import SUBSCRIPTION, Outcome
from tests.unit.cli.fake_management import ROLE_PREFIX, FakeDirectory

REGISTRIES = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default/providers/Microsoft.ContainerRegistry"
SCOPE = f"{REGISTRIES}/registries/r1"


@pytest.fixture
def directory(signed_in: Callable[[Any], None]) -> FakeDirectory:
    fake = FakeDirectory()
    signed_in(fake)
    return fake


def test_assignees_are_found_by_upn_app_id_or_display_name(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    sp = directory.add_sp("ci-puller")
    for assignee, principal_id in (
        ("jane@berth.test", "u-1"),
        (sp["appId"], sp["id"]),
        ("CI-Puller", sp["id"]),
    ):
        outcome = cli(
            "role", "assignment", "create", "--assignee", assignee, "--role", "acrpull", "--scope", SCOPE
        )
        assert outcome.code == 0, outcome.stderr
        created = json.loads(outcome.stdout)
        assert created["principalId"] == principal_id
        assert created["roleDefinitionId"] == f"{ROLE_PREFIX}/7f951dda-4ed3-4680-a7ca-43fe172d538d"
        assert created["roleDefinitionName"] == "AcrPull"
        assert created["scope"] == SCOPE
    missing = cli(
        "role", "assignment", "create", "--assignee", "nobody", "--role", "AcrPull", "--scope", SCOPE
    )
    assert missing.stderr.startswith(
        "ERROR: Cannot find user or service principal in graph database for 'nobody'."
    )
    unknown_role = cli(
        "role", "assignment", "create", "--assignee", "jane@berth.test", "--role", "Boss", "--scope", SCOPE
    )
    assert unknown_role.stderr == "ERROR: Role 'Boss' doesn't exist.\n"


def test_list_shows_names_and_delete_matches_assignee_role_and_scope(
    directory: FakeDirectory, cli: Callable[..., Outcome]
) -> None:
    for role in ("AcrPull", "AcrPush"):
        assert (
            cli(
                "role",
                "assignment",
                "create",
                "--assignee",
                "jane@berth.test",
                "--role",
                role,
                "--scope",
                SCOPE,
            ).code
            == 0
        )
    table = cli(
        "role", "assignment", "list", "--assignee", "jane@berth.test", "-o", "table"
    ).stdout.splitlines()
    assert table[0].split() == ["Principal", "Role", "Scope"]
    assert sorted(line.split()[1] for line in table[2:]) == ["AcrPull", "AcrPush"]

    outcome = cli(
        "role", "assignment", "delete", "--assignee", "jane@berth.test", "--role", "AcrPush", "--scope", SCOPE
    )
    assert outcome.code == 0, outcome.stderr
    remaining = json.loads(cli("role", "assignment", "list").stdout)
    assert [a["roleDefinitionName"] for a in remaining] == ["AcrPull"]
    assert cli("role", "assignment", "delete").stderr.startswith("ERROR: usage error: --ids ID")
    again = cli("role", "assignment", "delete", "--assignee", "jane@berth.test", "--role", "AcrPush")
    assert again.stderr == "ERROR: No matched assignments were found to delete\n"


def test_role_definitions_use_azs_field_names(directory: FakeDirectory, cli: Callable[..., Outcome]) -> None:
    definitions = json.loads(cli("role", "definition", "list", "--name", "AcrPush").stdout)
    assert definitions == [
        {
            "id": f"{ROLE_PREFIX}/8311e382-0749-4cb8-b61a-304f252e45ec",
            "name": "8311e382-0749-4cb8-b61a-304f252e45ec",
            "roleName": "AcrPush",
            "roleType": "BuiltInRole",
        }
    ]
