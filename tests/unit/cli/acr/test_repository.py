"""``berth acr repository`` against an in-process fake of the service and the registry's
``/acr/v1/`` API (token flow as in test_login.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.unit.cli.conftest import SUBSCRIPTION, Outcome

LS = "myreg.berth.test:5000"
DIGEST = "sha256:" + "ab" * 32
REGISTRY = {
    "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/default"
    "/providers/Microsoft.ContainerRegistry/registries/myreg",
    "name": "myreg",
    "properties": {"loginServer": LS},
}
TAGS = [{"name": "v1", "digest": DIGEST}, {"name": "stable", "digest": DIGEST}]
MANIFESTS = [{"digest": DIGEST, "tags": ["v1", "stable"], "lastUpdateTime": "2026-01-01T00:00:00Z"}]


@dataclass
class FakeRegistry:
    scopes: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        if path.endswith("/providers/Microsoft.ContainerRegistry/registries"):
            return httpx.Response(200, json={"value": [REGISTRY]})
        if path.endswith("/oauth2/v2.0/token"):
            return httpx.Response(200, json={"access_token": "directory-acr-token", "expires_in": 3600})
        if path == "/v2/":
            realm = f'Bearer realm="http://{LS}/oauth2/token",service="{LS}"'
            return httpx.Response(401, headers={"WWW-Authenticate": realm})
        if path == "/oauth2/exchange":
            return httpx.Response(200, json={"refresh_token": "acr-refresh-token"})
        if path == "/oauth2/token":
            self.scopes.append(parse_qs(request.content.decode())["scope"][0])
            return httpx.Response(200, json={"access_token": "acr-access-token"})
        assert request.headers["authorization"] == "Bearer acr-access-token"
        query = f"?{request.url.query.decode()}" if request.url.query else ""
        self.calls.append(f"{request.method} {path}{query}")
        if path == "/acr/v1/team%2Fweb/_tags":
            return httpx.Response(200, json={"tags": TAGS})
        if path == "/acr/v1/team%2Fweb/_manifests":
            return httpx.Response(200, json={"manifests": MANIFESTS})
        if path == "/acr/v1/team%2Fweb/_tags/v1":
            return httpx.Response(200, json={"tag": TAGS[0]})
        if path == f"/acr/v1/team%2Fweb/_manifests/{DIGEST.replace(':', '%3A')}":
            return httpx.Response(200, json={"manifest": MANIFESTS[0]})
        if request.method == "DELETE":
            return httpx.Response(202)
        return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]})


@pytest.fixture
def registry(signed_in: Callable[[Any], None]) -> FakeRegistry:
    fake = FakeRegistry()
    signed_in(fake)
    return fake


def test_show_tags_and_manifests_list_names_or_details(
    registry: FakeRegistry, cli: Callable[..., Outcome]
) -> None:
    args = ("acr", "repository", "show-tags", "-n", "myreg", "--repository", "team/web")
    assert json.loads(cli(*args, "--orderby", "time_desc").stdout) == ["v1", "stable"]
    assert json.loads(cli(*args, "--detail").stdout) == TAGS
    manifests = cli("acr", "repository", "show-manifests", "-n", "myreg", "--repository", "team/web")
    assert json.loads(manifests.stdout) == [
        {"digest": DIGEST, "tags": ["v1", "stable"], "timestamp": "2026-01-01T00:00:00Z"}
    ]
    assert registry.calls == [
        "GET /acr/v1/team%2Fweb/_tags?n=100&orderby=timedesc",
        "GET /acr/v1/team%2Fweb/_tags?n=100",
        "GET /acr/v1/team%2Fweb/_manifests?n=100",
    ]
    assert registry.scopes == ["repository:team/web:metadata_read"] * 3


def test_show_takes_exactly_one_of_repository_and_image(
    registry: FakeRegistry, cli: Callable[..., Outcome]
) -> None:
    for extra in ((), ("--repository", "team/web", "--image", "team/web:v1")):
        outcome = cli("acr", "repository", "show", "-n", "myreg", *extra)
        assert (outcome.code, outcome.stderr) == (
            1,
            "ERROR: Usage error: --image IMAGE | --repository REPOSITORY\n",
        )
    shown = cli("acr", "repository", "show", "-n", "myreg", "--image", "team/web:v1")
    assert json.loads(shown.stdout) == TAGS[0]
    assert registry.calls == ["GET /acr/v1/team%2Fweb/_tags/v1"]


def test_deleting_an_image_by_tag_deletes_its_manifest(
    registry: FakeRegistry, cli: Callable[..., Outcome]
) -> None:
    outcome = cli("acr", "repository", "delete", "-n", "myreg", "--image", "team/web:v1", "--yes")
    assert outcome.code == 0, outcome.stderr
    assert registry.scopes == ["repository:team/web:delete,metadata_read"]
    assert registry.calls == [
        "GET /acr/v1/team%2Fweb/_tags/v1",
        f"GET /acr/v1/team%2Fweb/_manifests/{DIGEST.replace(':', '%3A')}",
        f"DELETE /v2/team/web/manifests/{DIGEST}",
    ]
