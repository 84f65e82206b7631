"""The authorization matrix: every credential kind, every registry-plane action, own and
other repository, own and other registry, with Basic credentials and with Bearer tokens.

Each cell's expected answer comes from :mod:`tests.security.matrix_model` — ACR's documented
model — never from berth. The identities and content are set up once per database engine
(:mod:`tests.security.matrix_world`); every cell is one parametrized test. A ``401`` from a data
call must name the scope ACR's challenge names for that call, and the ``error`` parameter where
ACR documents one (``insufficient_scope``; ``invalid_token`` for a token of another registry).
Cross-repository mounts are covered by their own suite.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.access.wire import digest_of, payload
from tests.security.conftest import Secure
from tests.security.matrix_model import (
    ENDPOINTS,
    OTHER_REPOSITORY,
    OWN_REPOSITORY,
    SCOPE_MAP_ACTIONS,
    Cell,
    Endpoint,
    Expected,
    cells,
)
from tests.security.matrix_world import OTHER, OWN, TAG, UPLOADED, World, build_world, host_of, image_for

CELLS = cells()


@pytest.fixture(scope="module")
def world(secure: Secure) -> World:
    return build_world(secure)


def _challenge(header: str) -> dict[str, str]:
    assert header.startswith("Bearer "), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def _mismatches(
    cell: Cell, expected: Expected, stage: str, response: httpx.Response, world: World
) -> list[str]:
    found: list[str] = []
    if stage != expected.stage or response.status_code != expected.status:
        found.append(f"got {stage} {response.status_code}")
        return found
    if expected.code is not None and response.request.method != "HEAD":
        errors = response.json().get("errors") or [{}]
        if errors[0].get("code") != expected.code:
            found.append(f"error code {errors[0].get('code')!r}")
    if stage == "data" and expected.status == 401:
        params = _challenge(response.headers.get("WWW-Authenticate", ""))
        scope = cell.endpoint.scope(cell.repository)
        if params.get("scope") != scope:
            found.append(f"challenge scope {params.get('scope')!r}, ACR names {scope!r}")
        if params.get("service") != host_of(world.registry_of(cell)):
            found.append(f"challenge service {params.get('service')!r}")
        if expected.challenge_error is not None and params.get("error") != expected.challenge_error:
            found.append(f"challenge error {params.get('error')!r}")
    return found


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_cell(world: World, cell: Cell) -> None:
    expected = cell.expected()
    answer = world.send(cell)
    found = _mismatches(cell, expected, answer.stage, answer.response, world)
    if answer.token and payload(answer.token)["access"] != cell.expected_access():
        found.append(f"token access {payload(answer.token)['access']}, ACR grants {cell.expected_access()}")
    assert not found, (
        f"{cell.credential.description}, {cell.endpoint.method} {cell.endpoint.path} "
        f"({cell.repository or 'registry'}, {cell.side} registry, {cell.mode}): "
        f"ACR answers {expected.describe()}; berth: {'; '.join(found)}; body {answer.response.text[:300]!r}"
    )


# --- upload sessions belong to their repository and registry ----------------------------------

SESSION_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if endpoint.session]


@pytest.mark.parametrize("owner", ["other-repository", "other-registry"])
@pytest.mark.parametrize("endpoint", SESSION_ENDPOINTS, ids=[e.name for e in SESSION_ENDPOINTS])
@pytest.mark.parametrize("row", ["admin", "token-content-write"])
def test_a_session_is_reached_only_through_its_own_repository(
    world: World, row: str, endpoint: Endpoint, owner: str
) -> None:
    """Push on ``team/app`` reaches no session of ``team/other`` (or of another registry) by
    naming it under ``team/app``: ``404 BLOB_UPLOAD_UNKNOWN``, and the session is untouched."""
    registry = OTHER if owner == "other-registry" else OWN
    repository = OWN_REPOSITORY if owner == "other-registry" else OTHER_REPOSITORY
    session = world.upload_session(registry, repository)
    params = {"digest": digest_of(UPLOADED)} if endpoint.name == "upload-put" else {}
    response = world.client.request(
        endpoint.method,
        f"/v2/{OWN_REPOSITORY}/blobs/uploads/{session}",
        params=params,
        content=UPLOADED if endpoint.method in ("PATCH", "PUT") else b"",
        headers={**world.logins[row], "Host": host_of(OWN), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    status = world.client.get(
        f"/v2/{repository}/blobs/uploads/{session}",
        headers={**world.admins[registry], "Host": host_of(registry)},
    )
    assert status.status_code == 204, status.text
    assert status.headers["Range"] == "0-0", "the session was written to"


# --- content of another repository, named under the own repository -----------------------------

FOREIGN_CONTENT = {
    "manifest-get": "MANIFEST_UNKNOWN",
    "manifest-head": None,
    "manifest-delete": "MANIFEST_UNKNOWN",
    "blob-get": "BLOB_UNKNOWN",
    "blob-head": None,
    "blob-delete": "BLOB_UNKNOWN",
    "acr-manifest-get": "MANIFEST_UNKNOWN",
    "acr-manifest-patch": "MANIFEST_UNKNOWN",
}
TOKEN_ROW = {docker: f"token-{action.replace('/', '-')}" for action, docker in SCOPE_MAP_ACTIONS.items()}


@pytest.mark.parametrize("name", list(FOREIGN_CONTENT))
def test_content_of_another_repository_is_unknown_under_the_own_one(world: World, name: str) -> None:
    """A token for ``team/app`` that names ``team/other``'s manifest or blob by digest under
    ``team/app`` learns nothing and changes nothing: ``404``, as if the digest did not exist."""
    endpoint = next(e for e in ENDPOINTS if e.name == name)
    foreign = image_for(OWN, OTHER_REPOSITORY)
    path = endpoint.path.format(
        repo=OWN_REPOSITORY,
        manifest=foreign.manifest_digest,
        layer=foreign.layer_digest,
        tag=foreign.manifest_digest,
        session="",
    )
    headers = {**world.logins[TOKEN_ROW[endpoint.needs]], "Host": host_of(OWN)}
    content = b""
    if endpoint.method == "PATCH":
        content, headers["Content-Type"] = b'{"writeEnabled":false}', "application/json"
    response = world.client.request(endpoint.method, path, content=content, headers=headers)
    assert response.status_code == 404, response.text
    if FOREIGN_CONTENT[name] is not None:
        assert response.json()["errors"][0]["code"] == FOREIGN_CONTENT[name]
    owners = {**world.admins[OWN], "Host": host_of(OWN)}
    for kept in (
        f"/v2/{OTHER_REPOSITORY}/manifests/{TAG}",
        f"/v2/{OTHER_REPOSITORY}/blobs/{foreign.layer_digest}",
    ):
        assert world.client.get(kept, headers=owners).status_code == 200, f"{kept} was changed"
    attributes = world.client.get(
        f"/acr/v1/{OTHER_REPOSITORY}/_manifests/{foreign.manifest_digest}", headers=owners
    )
    assert attributes.json()["manifest"]["changeableAttributes"]["writeEnabled"] is True
