"""The ``401`` challenge, byte for byte: ``GET /v2/`` carries no scope, every other endpoint does.

The az CLI splits the header on ``' '`` and ``','`` and the Azure SDK's regex parser keeps
``", "`` junk, so the format is asserted exactly (acr-reference.md §2.1).
"""

from __future__ import annotations

import pytest

from tests.api.access.wire import REALM, SERVICE, UNAUTHORIZED_MESSAGE, TestClient, error_of

CHALLENGE = f'Bearer realm="{REALM}",service="{SERVICE}"'


@pytest.mark.parametrize("path", ["/v2/", "/v2"])
def test_version_check_challenge_has_no_scope(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert error_of(response)["code"] == "UNAUTHORIZED"
    assert error_of(response)["message"] == UNAUTHORIZED_MESSAGE


@pytest.mark.parametrize(
    ("method", "path", "scope", "detail"),
    [
        ("GET", "/v2/_catalog", "registry:catalog:*", ("registry", "catalog", "*")),
        ("GET", "/acr/v1/_catalog", "registry:catalog:*", ("registry", "catalog", "*")),
        ("GET", "/v2/hello-world/tags/list", "repository:hello-world:pull", None),
        ("GET", "/v2/library/hello/manifests/latest", "repository:library/hello:pull", None),
        ("HEAD", "/v2/hello/manifests/v1", "repository:hello:pull", None),
        ("PUT", "/v2/hello/manifests/v1", "repository:hello:push", None),
        ("DELETE", "/v2/hello/manifests/sha256:" + "a" * 64, "repository:hello:delete", None),
        ("POST", "/v2/hello/blobs/uploads/", "repository:hello:push", None),
        ("GET", "/v2/hello/blobs/sha256:" + "b" * 64, "repository:hello:pull", None),
        ("GET", "/v2/hello/referrers/sha256:" + "c" * 64, "repository:hello:pull", None),
    ],
)
def test_resource_challenge_names_the_scope(
    client: TestClient, method: str, path: str, scope: str, detail: tuple[str, str, str] | None
) -> None:
    response = client.request(method, path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'{CHALLENGE},scope="{scope}"'
    if method != "HEAD":
        entry = error_of(response)
        assert entry["code"] == "UNAUTHORIZED"
        assert entry["message"] == UNAUTHORIZED_MESSAGE
        kind, name, action = detail or ("repository", scope.split(":")[1], scope.split(":")[2])
        assert entry["detail"] == [{"Type": kind, "Name": name, "Action": action}]


def test_challenge_has_no_spaces_between_parameters(client: TestClient) -> None:
    header = client.get("/v2/hello/tags/list").headers["WWW-Authenticate"]
    scheme, _, params = header.partition(" ")
    assert scheme == "Bearer"
    assert " " not in params
    # az CLI: split(' ', 2) then ',' then '=' — every piece is a key="value" pair.
    pieces = [piece.split("=", 2) for piece in header.split(" ", 2)[1].split(",")]
    assert {key: value.strip('"') for key, value in pieces} == {
        "realm": REALM,
        "service": SERVICE,
        "scope": "repository:hello:pull",
    }


def test_cross_repository_mount_asks_for_both_scopes(client: TestClient) -> None:
    response = client.post(
        "/v2/target/blobs/uploads/", params={"mount": "sha256:" + "d" * 64, "from": "source"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'{CHALLENGE},scope="repository:target:push repository:source:pull"'
    )


def test_challenge_names_the_host_the_client_used(client: TestClient, setup: object) -> None:
    response = client.get("/v2/hello/tags/list", headers={"Host": "127.0.0.1:5000"})
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="http://127.0.0.1:5000/oauth2/token",service="127.0.0.1:5000",'
        'scope="repository:hello:pull"'
    )
