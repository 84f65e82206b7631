"""Tokens and scope maps against an in-memory fake of the management API's children."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from berth.cli.acr.scope_maps import parse_actions
from berth.cli.framework import CliError
from tests.unit.cli.conftest import SUBSCRIPTION, Outcome

REGISTRY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default"
    "/providers/Microsoft.ContainerRegistry/registries/myreg"
)


class FakeChildren:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body: Any = json.loads(request.content) if request.content else {}
        self.requests.append((request.method, path, body))
        if path.endswith("/registries"):
            registry = {
                "id": REGISTRY_ID,
                "name": "myreg",
                "properties": {"loginServer": "myreg.berth.test:5000"},
            }
            return httpx.Response(200, json={"value": [registry]})
        if path.endswith("/generateCredentials"):
            names = [body["name"]] if body.get("name") else ["password1", "password2"]
            passwords = [{"name": n, "value": f"{n}-value", "expiry": body.get("expiry")} for n in names]
            return httpx.Response(
                200, json={"username": body["tokenId"].rsplit("/", 1)[-1], "passwords": passwords}
            )
        if request.method == "GET" and path.endswith(("/tokens", "/scopeMaps")):
            return httpx.Response(
                200, json={"value": [v for k, v in self.items.items() if k.startswith(path)]}
            )
        if request.method == "GET":
            if path not in self.items:
                return httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": "nope"}})
            return httpx.Response(200, json=self.items[path])
        if request.method in ("PUT", "PATCH"):
            current = self.items.get(path, {"id": path, "name": path.rsplit("/", 1)[-1], "properties": {}})
            current["properties"].update(body["properties"])
            self.items[path] = current
            return httpx.Response(200, json=current)
        if request.method == "DELETE":
            self.items.pop(path, None)
            return httpx.Response(200)
        return httpx.Response(405)


@pytest.fixture
def fake(signed_in: Callable[[Any], None]) -> FakeChildren:
    children = FakeChildren()
    signed_in(children)
    return children


def test_parse_actions_lower_cases_and_checks() -> None:
    assert parse_actions(["Team/App content/read CONTENT/WRITE", "x metadata/read"]) == [
        "repositories/team/app/content/read",
        "repositories/team/app/content/write",
        "repositories/x/metadata/read",
    ]
    with pytest.raises(CliError, match="At least one action must be specified with the repository x"):
        parse_actions(["x"])
    with pytest.raises(CliError, match='Invalid action "pull" provided'):
        parse_actions(["x pull"])


def test_token_with_repositories_creates_its_scope_map_and_passwords(
    fake: FakeChildren, cli: Callable[..., Outcome]
) -> None:
    outcome = cli(
        "acr", "token", "create", "-n", "tok", "-r", "myreg",
        "--repository", "hello", "content/read", "content/write",
        "--repository", "other", "content/read",
        "--expiration-in-days", "30",
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    token = json.loads(outcome.stdout)
    assert token["scopeMapId"] == f"{REGISTRY_ID}/scopeMaps/tok-scope-map"
    assert token["status"] == "enabled"
    assert token["credentials"]["username"] == "tok"
    assert [p["value"] for p in token["credentials"]["passwords"]] == ["password1-value", "password2-value"]
    assert all(p["expiry"] for p in token["credentials"]["passwords"])
    scope_map = fake.items[f"{REGISTRY_ID}/scopeMaps/tok-scope-map"]
    assert scope_map["properties"] == {
        "actions": [
            "repositories/hello/content/read",
            "repositories/hello/content/write",
            "repositories/other/content/read",
        ],
        "description": "Created by token: tok",
    }
    stderr = outcome.stderr.splitlines()
    assert stderr[0] == 'WARNING: Creating a scope map "tok-scope-map" for provided repository permissions.'
    assert stderr[1].startswith("WARNING: Please store your generated credentials safely.")

    again = cli("acr", "token", "create", "-n", "tok", "-r", "myreg", "--repository", "hello", "content/read")
    assert again.code == 1
    assert again.stderr.startswith("ERROR: The default scope map was already configured")


def test_token_needs_exactly_one_of_scope_map_and_repository(
    fake: FakeChildren, cli: Callable[..., Outcome]
) -> None:
    assert cli("acr", "token", "create", "-n", "t", "-r", "myreg").stderr == (
        "ERROR: usage error: --repository | --scope-map\n"
    )
    outcome = cli("acr", "token", "create", "-n", "t", "-r", "myreg", "--scope-map", "m", "--no-passwords")
    assert outcome.code == 0
    assert "credentials" not in json.loads(outcome.stdout)


def test_scope_map_update_adds_and_removes_actions(fake: FakeChildren, cli: Callable[..., Outcome]) -> None:
    created = cli("acr", "scope-map", "create", "-n", "m", "-r", "myreg", "--repository", "a", "content/read",
                  "content/write", "--description", "team a")  # fmt: skip
    assert created.code == 0, created.stderr
    outcome = cli(
        "acr", "scope-map", "update", "-n", "m", "-r", "myreg",
        "--remove-repository", "a", "content/write", "--add-repository", "b", "metadata/read",
        "--query", "actions",
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == ["repositories/a/content/read", "repositories/b/metadata/read"]


def test_deleting_a_password_keeps_the_other(fake: FakeChildren, cli: Callable[..., Outcome]) -> None:
    path = f"{REGISTRY_ID}/tokens/tok"
    fake.items[path] = {
        "id": path,
        "name": "tok",
        "properties": {"credentials": {"passwords": [{"name": "password1"}, {"name": "password2"}]}},
    }
    outcome = cli("acr", "token", "credential", "delete", "-n", "tok", "-r", "myreg", "--password1")
    assert outcome.code == 0, outcome.stderr
    assert fake.requests[-1] == (
        "PATCH",
        path,
        {"properties": {"credentials": {"passwords": [{"name": "password2"}]}}},
    )
    outcome = cli("acr", "token", "credential", "delete", "-n", "tok", "-r", "myreg")
    assert outcome.stderr == "ERROR: No credentials to delete.\n"


def test_generating_one_password_names_it(fake: FakeChildren, cli: Callable[..., Outcome]) -> None:
    outcome = cli("acr", "token", "credential", "generate", "-n", "tok", "-r", "myreg", "--password2",
                  "--expiration", "2030-01-02T03:04:05Z")  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    method, path, body = fake.requests[-1]
    assert (method, path) == ("POST", f"{REGISTRY_ID}/generateCredentials")
    assert body == {
        "tokenId": f"{REGISTRY_ID}/tokens/tok",
        "name": "password2",
        "expiry": "2030-01-02T03:04:05+00:00",
    }
    both = cli(
        "acr", "token", "credential", "generate", "-n", "tok", "-r", "myreg",
        "--expiration-in-days", "1", "--expiration", "2030-01-01",
    )  # fmt: skip
    assert both.stderr == "ERROR: usage error: --expiration-in-days | --expiration\n"
