from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import typer

from berth.cli.framework import expand_az_arguments, parse_bool, words
from berth.cli.root import app
from tests.unit.cli.conftest import SUBSCRIPTION, Outcome

REGISTRY_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default"
    "/providers/Microsoft.ContainerRegistry/registries/myreg"
)


def _registry(**properties: Any) -> dict[str, Any]:
    return {
        "id": REGISTRY_PATH,
        "name": "myreg",
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "local",
        "sku": {"name": "Premium", "tier": "Premium"},
        "tags": {},
        "properties": {
            "loginServer": "myreg.berth.test:5000",
            "adminUserEnabled": False,
            "networkRuleSet": {
                "defaultAction": "Allow",
                "ipRules": [{"action": "Allow", "value": "192.0.2.1"}],
            },
            **properties,
        },
    }


def test_words_options_collect_values_until_the_next_option() -> None:
    args = [
        "-n",
        "t",
        "--repository",
        "a",
        "content/read",
        "content/write",
        "--repository",
        "b",
        "x",
        "-r",
        "r",
    ]
    expanded = expand_az_arguments(args, {"--repository"}, set())
    assert expanded == [
        "-n",
        "t",
        "--repository",
        "a content/read content/write",
        "--repository",
        "b x",
        "-r",
        "r",
    ]
    assert words(["a content/read content/write", "b x"]) == [
        ["a", "content/read", "content/write"],
        ["b", "x"],
    ]


def test_words_option_without_values_is_left_for_the_parser_to_reject() -> None:
    assert expand_az_arguments(["--repository", "--yes"], {"--repository"}, set()) == [
        "--repository",
        "--yes",
    ]


def test_negative_numbers_are_values_not_options() -> None:
    assert expand_az_arguments(["--scopes", "-1", "x"], {"--scopes"}, set()) == ["--scopes", "-1 x"]


def test_three_state_flag_alone_means_true() -> None:
    flags = {"--admin-enabled"}
    assert expand_az_arguments(["--admin-enabled"], set(), flags) == ["--admin-enabled", "true"]
    assert expand_az_arguments(["--admin-enabled", "-n", "r"], set(), flags) == [
        "--admin-enabled",
        "true",
        "-n",
        "r",
    ]
    assert expand_az_arguments(["--admin-enabled", "False"], set(), flags) == ["--admin-enabled", "False"]
    assert expand_az_arguments(["--", "--admin-enabled"], set(), flags) == ["--", "--admin-enabled"]


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("Yes", True), ("1", True), ("false", False), ("no", False)]
)
def test_parse_bool(text: str, value: bool) -> None:
    assert parse_bool(text) is value


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, child in getattr(group, "commands", {}).items():
        yield from _commands(child, (*path, name))


ALL_COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=[" ".join(p) or "berth" for p in ALL_COMMANDS])
def test_every_command_has_help(path: tuple[str, ...], cli: Callable[..., Outcome]) -> None:
    outcome = cli(*path, "--help")
    assert outcome.code == 0, outcome.stderr
    assert "Usage:" in outcome.stdout
    assert outcome.stderr == ""


def test_az_commands_carry_the_global_arguments(cli: Callable[..., Outcome]) -> None:
    help_text = cli("acr", "show", "--help").stdout
    for option in ("--output", "--query", "--only-show-errors", "--debug", "--verbose"):
        assert option in help_text


def test_not_signed_in_is_one_error_line(cli: Callable[..., Outcome]) -> None:
    outcome = cli("acr", "list")
    assert outcome.code == 1
    assert outcome.stdout == ""
    assert outcome.stderr == "ERROR: Please run 'berth login' to setup account.\n"


def test_usage_errors_are_one_line_with_exit_status_2(cli: Callable[..., Outcome]) -> None:
    outcome = cli("acr", "create")
    assert outcome.code == 2
    assert outcome.stderr.count("\n") == 1
    assert outcome.stderr.startswith("ERROR: Missing option '--name'")
    assert "berth acr create --help" in outcome.stderr


def test_invalid_query_fails_before_the_command_runs(cli: Callable[..., Outcome], signed_in: Any) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    signed_in(handler)
    outcome = cli("acr", "delete", "-n", "myreg", "--yes", "--query", "[.")
    assert outcome.code == 2
    assert outcome.stderr.startswith("ERROR: argument --query:")
    assert calls == []


def test_three_state_flag_reaches_the_api_as_a_boolean(cli: Callable[..., Outcome], signed_in: Any) -> None:
    patches: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/registries"):
            return httpx.Response(200, json={"value": [_registry()]})
        if request.method == "PATCH":
            body = json.loads(request.content)
            patches.append(body)
            return httpx.Response(200, json=_registry(**body["properties"]))
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": "no"}})

    signed_in(handler)
    outcome = cli(
        "acr",
        "update",
        "-n",
        "myreg",
        "--admin-enabled",
        "--default-action",
        "Deny",
        "-o",
        "tsv",
        "--query",
        "[adminUserEnabled, networkRuleSet.defaultAction]",
    )
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout == "true\nDeny\n"  # az's tsv: a list's items on lines of their own
    assert patches == [
        {
            "properties": {
                "adminUserEnabled": True,
                "networkRuleSet": {
                    "defaultAction": "Deny",
                    "ipRules": [{"action": "Allow", "value": "192.0.2.1"}],
                },
            }
        }
    ]
    outcome = cli("acr", "update", "-n", "myreg", "--admin-enabled", "maybe")
    assert outcome.code == 2
    assert outcome.stderr == "ERROR: argument --admin-enabled: invalid value 'maybe' (use true or false)\n"


def test_api_errors_are_one_line_and_not_found_exits_3(cli: Callable[..., Outcome], signed_in: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        message = "The Microsoft.ContainerRegistry/registries 'nope' could not be found\nunder group."
        return httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": message}})

    signed_in(handler)
    outcome = cli("acr", "show", "-n", "nope", "-g", "default")
    assert outcome.code == 3
    assert outcome.stderr == (
        "ERROR: (ResourceNotFound) The Microsoft.ContainerRegistry/registries 'nope' could not be found "
        "under group.\n"
    )


def test_registry_names_are_found_in_any_resource_group(cli: Callable[..., Outcome], signed_in: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer management-token"
        assert request.url.params["api-version"]
        return httpx.Response(200, json={"value": [_registry()]})

    signed_in(handler)
    outcome = cli("acr", "show", "-n", "MyReg")
    assert outcome.code == 0, outcome.stderr
    shown = json.loads(outcome.stdout)
    assert shown["loginServer"] == "myreg.berth.test:5000"
    assert shown["resourceGroup"] == "default"
    assert "properties" not in shown
    assert cli("acr", "show", "-n", "other").stderr.startswith(
        "ERROR: (ResourceNotFound) The resource with name"
    )


def test_shell_completion_completes_commands_and_choices(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from berth.cli import run

    monkeypatch.setenv("_BERTH_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "berth acr create --sku ")
    monkeypatch.setenv("COMP_CWORD", "4")
    with pytest.raises(SystemExit) as exited:
        run([])
    assert exited.value.code == 0
    assert capsys.readouterr().out.split() == ["Basic", "Standard", "Premium"]
