"""``berth acr gc`` against an in-process fake of the management API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.unit.cli.conftest import SUBSCRIPTION, Outcome

PROVIDER = "providers/Microsoft.ContainerRegistry/registries"
REGISTRY_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default/{PROVIDER}/myreg"
REGISTRY = {"id": REGISTRY_ID, "name": "myreg", "properties": {"loginServer": "myreg.berth.test:5000"}}
RESULT = {
    "registry": "myreg",
    "dryRun": True,
    "blobsFreed": 2,
    "bytesFreed": 300,
    "digests": ["sha256:" + "a" * 64, "sha256:" + "b" * 64],
    "summary": "would free 2 unreferenced blob(s), 300 bytes",
}


def test_gc_posts_the_action_and_prints_what_it_freed(
    signed_in: Callable[[Any], None], cli: Callable[..., Outcome]
) -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": [REGISTRY]})
        assert (request.method, path) == ("POST", REGISTRY_ID + "/garbageCollect")
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=RESULT)

    signed_in(handler)
    outcome = cli("acr", "gc", "-n", "myreg", "--dry-run")
    table = cli("acr", "gc", "-n", "myreg", "--output", "table")

    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == RESULT
    assert bodies == [{"dryRun": True}, {"dryRun": False}]
    assert "300" in table.stdout


def test_purge_sends_the_filters_and_the_duration_in_seconds(
    signed_in: Callable[[Any], None], cli: Callable[..., Outcome]
) -> None:
    bodies: list[Any] = []
    answer = {
        "registry": "myreg",
        "dryRun": False,
        "deletedTags": ["a:1"],
        "deletedManifests": [],
        "locked": [],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": [REGISTRY]})
        assert (request.method, path) == ("POST", REGISTRY_ID + "/purge")
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=answer)

    signed_in(handler)
    args = ("acr", "purge", "-n", "myreg", "--filter", "team/.*:v.*", "--filter", "a:.*")
    outcome = cli(*args, "--ago", "1d2h", "--untagged", "--keep", "3")
    wrong = cli(*args, "--ago", "soon")

    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == answer
    assert bodies == [
        {
            "filters": ["team/.*:v.*", "a:.*"],
            "agoSeconds": 93600.0,
            "untagged": True,
            "keep": 3,
            "dryRun": False,
        }
    ]
    assert wrong.code == 1
    assert "--ago must be a duration" in wrong.stderr


def test_retention_update_and_show(signed_in: Callable[[Any], None], cli: Callable[..., Outcome]) -> None:
    calls: list[tuple[str, Any]] = []
    policy = {"status": "enabled", "days": 7, "type": "UntaggedManifests"}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": [REGISTRY]})
        assert path == REGISTRY_ID + "/retentionPolicy"
        calls.append((request.method, json.loads(request.content) if request.content else None))
        return httpx.Response(200, json=policy)

    signed_in(handler)
    update = ("acr", "config", "retention", "update", "-r", "myreg", "--status", "enabled")
    updated = cli(*update, "--days", "7", "--type", "UntaggedManifests")
    shown = cli("acr", "config", "retention", "show", "-r", "myreg")

    assert updated.code == 0, updated.stderr
    assert json.loads(shown.stdout) == policy
    assert calls == [("PUT", policy), ("GET", None)]


def test_show_usage_lists_the_usages(signed_in: Callable[[Any], None], cli: Callable[..., Outcome]) -> None:
    usages = {"value": [{"name": "Size", "limit": 10, "currentValue": 3, "unit": "Bytes"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": [REGISTRY]})
        assert (request.method, path) == ("GET", REGISTRY_ID + "/listUsages")
        return httpx.Response(200, json=usages)

    signed_in(handler)
    shown = cli("acr", "show-usage", "-n", "myreg")
    table = cli("acr", "show-usage", "-n", "myreg", "--output", "table")

    assert json.loads(shown.stdout) == usages
    assert "Bytes" in table.stdout
