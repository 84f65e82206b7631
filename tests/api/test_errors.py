"""Bad input across the API: names, path tricks and garbage get the spec's code, never a 500."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from starlette.types import Message, Scope

from berth.app import BerthApp
from tests.api.oci import OCI_MANIFEST, TestClient, assert_error, digest_of, push_blob, push_image

ZERO = "sha256:" + "0" * 64

# Every repository-scoped endpoint, as (method, path template with {name}).
REPOSITORY_ENDPOINTS = [
    ("GET", "/v2/{name}/tags/list"),
    ("GET", "/v2/{name}/manifests/latest"),
    ("HEAD", "/v2/{name}/manifests/latest"),
    ("PUT", "/v2/{name}/manifests/latest"),
    ("DELETE", "/v2/{name}/manifests/latest"),
    ("GET", f"/v2/{{name}}/blobs/{ZERO}"),
    ("HEAD", f"/v2/{{name}}/blobs/{ZERO}"),
    ("DELETE", f"/v2/{{name}}/blobs/{ZERO}"),
    ("POST", "/v2/{name}/blobs/uploads/"),
    ("GET", "/v2/{name}/blobs/uploads/5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"),
    ("PATCH", "/v2/{name}/blobs/uploads/5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"),
    ("PUT", "/v2/{name}/blobs/uploads/5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"),
    ("DELETE", "/v2/{name}/blobs/uploads/5f0c7e5e-3d2a-4b8e-9a57-0d9f3c2b1a10"),
    ("GET", f"/v2/{{name}}/referrers/{ZERO}"),
]


def raw_request(
    client: TestClient, app: BerthApp, method: str, raw_path: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Send a path exactly as given: HTTP clients normalise ``..`` away, curl --path-as-is does not."""
    path, _, query = raw_path.partition(b"?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path.decode()),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"localhost:5000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 5000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    portal = client.portal
    assert portal is not None, "raw_request needs the client's lifespan (use it inside the fixture)"
    portal.call(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body


# --- repository names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Team/App",
        "team/App",
        "team//app",
        "team/app/",
        "-team/app",
        "team/-app",
        "team/app-",
        "team/a..b",
        "team/%2E%2E/app",
        "team/app%0A",
        "team/a%20b",
        "team/%C3%A9",
        "a" * 256,
    ],
)
def test_invalid_repository_name_is_400_name_invalid(client: TestClient, name: str) -> None:
    for method, template in REPOSITORY_ENDPOINTS:
        response = client.request(method, template.format(name=name))

        assert response.status_code == 400, (method, template, response.text)
        if method != "HEAD":
            entry = assert_error(response, 400, "NAME_INVALID")
            assert entry["detail"] == {"name": unquote(name)}


@pytest.mark.parametrize("encoded", ["%2F", "%2f"])
def test_an_encoded_slash_in_the_name_is_a_slash(client: TestClient, encoded: str) -> None:
    """The Azure SDK sends ``team%2Fapp``; docker sends ``team/app``: both name one repository."""
    body, digest = push_image(client, "team/app", "latest")
    layer = push_blob(client, "team/app", b"a blob")
    name = f"team{encoded}app"

    tags = client.get(f"/v2/{name}/tags/list")
    manifest = client.get(f"/v2/{name}/manifests/latest")
    blob = client.head(f"/v2/{name}/blobs/{layer}")
    upload = client.post(f"/v2/{name}/blobs/uploads/")

    assert tags.json() == {"name": "team/app", "tags": ["latest"]}
    assert manifest.content == body
    assert manifest.headers["Docker-Content-Digest"] == digest
    assert blob.status_code == 200
    assert upload.status_code == 202
    assert upload.headers["Location"].startswith("/v2/team/app/blobs/uploads/")


@pytest.mark.parametrize(
    "name", ["team%2F..%2Fapp", "team%2F%2E%2E%2Fapp", "team%2F%2Fapp", "%2Fteam%2Fapp", "team%2Fapp%2F"]
)
def test_an_encoded_slash_cannot_hide_a_bad_name(client: TestClient, name: str) -> None:
    push_image(client, "team/app", "latest")

    for method, template in REPOSITORY_ENDPOINTS:
        response = client.request(method, template.format(name=name))

        assert response.status_code == 400, (method, template, response.text)
        if method != "HEAD":
            entry = assert_error(response, 400, "NAME_INVALID")
            assert entry["detail"] == {"name": unquote(name)}


def test_an_encoded_slash_in_a_reference_matches_no_endpoint(client: TestClient) -> None:
    push_image(client, "team/app", "latest")

    assert_error(client.get("/v2/team/app/manifests/lat%2Fest"), 404, "NOT_FOUND")
    assert_error(client.get("/v2/team/app/blobs/sha256%2F" + "0" * 64), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/v2/team/../app/tags/list",
        b"/v2/../v2/team/app/tags/list",
        b"/v2/team/app/../../etc/tags/list",
        b"/v2/./team/app/tags/list",
        b"/v2/team/app/blobs/uploads/../../../../manifests/latest",
    ],
)
def test_literal_dot_segments_are_400_name_invalid(
    client: TestClient, app: BerthApp, raw_path: bytes
) -> None:
    push_image(client, "team/app", "latest")
    push_image(client, "app", "latest")

    status, headers, body = raw_request(client, app, "GET", raw_path)

    assert status == 400
    assert headers["docker-distribution-api-version"] == "registry/2.0"
    assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID"


def test_literal_dot_dot_upload_id_is_unknown(client: TestClient, app: BerthApp) -> None:
    status, _, body = raw_request(client, app, "GET", b"/v2/team/app/blobs/uploads/..")

    assert status == 404
    assert json.loads(body)["errors"][0]["code"] in ("BLOB_UPLOAD_UNKNOWN", "NOT_FOUND")


# --- tags and digests -----------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["bad%0A", "-x", "%20x", "a%09b", "x" * 129])
def test_invalid_tag_references_are_400_tag_invalid(client: TestClient, reference: str) -> None:
    """PUT and DELETE refuse a name that cannot be a tag; GET and HEAD find nothing by it (404)."""
    body, _ = push_image(client, "team/app", "latest")

    for method, content in (("PUT", body), ("DELETE", None)):
        response = client.request(
            method,
            f"/v2/team/app/manifests/{reference}",
            content=content,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert_error(response, 400, "TAG_INVALID")
    assert_error(client.get(f"/v2/team/app/manifests/{reference}"), 404, "MANIFEST_UNKNOWN")
    assert client.head(f"/v2/team/app/manifests/{reference}").status_code == 404


@pytest.mark.parametrize(
    "digest", ["sha256:totallywrong", "sha256:" + "0" * 64 + "%0A", "sha256:%2E%2E", "sha256:"]
)
def test_garbage_digests_are_400_digest_invalid_everywhere(client: TestClient, digest: str) -> None:
    push_image(client, "team/app", "latest")
    location = client.post("/v2/team/app/blobs/uploads/").headers["Location"]

    responses = [
        client.get(f"/v2/team/app/blobs/{digest}"),
        client.delete(f"/v2/team/app/blobs/{digest}"),
        client.get(f"/v2/team/app/manifests/{digest}"),
        client.delete(f"/v2/team/app/manifests/{digest}"),
        client.get(f"/v2/team/app/referrers/{digest}"),
        client.post(f"/v2/team/app/blobs/uploads/?mount={digest}&from=team/app"),
        client.post(f"/v2/team/app/blobs/uploads/?digest={digest}", content=b"x"),
        client.put(f"{location}?digest={digest}", content=b"x"),
    ]

    for response in responses:
        assert_error(response, 400, "DIGEST_INVALID")


# --- never a 500 ----------------------------------------------------------------------------

NASTY_REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/v2/team/app/blobs/sha256:" + "f" * 64, {"Range": "bytes=99999999999999999999-"}, b""),
    ("GET", "/v2/team/app/blobs/sha256:" + "f" * 64, {"Range": "bytes=--1"}, b""),
    (
        "PATCH",
        "/v2/team/app/blobs/uploads/{upload}",
        {"Content-Range": "99999999999999999999-99999999999999999999"},
        b"x",
    ),
    ("PATCH", "/v2/team/app/blobs/uploads/{upload}", {"Content-Range": "0-18446744073709551616"}, b"x"),
    ("PATCH", "/v2/team/app/blobs/uploads/{upload}", {"Content-Length": "-1"}, b"x"),
    ("PATCH", "/v2/team/app/blobs/uploads/{upload}", {"Content-Length": "99999999999999999999"}, b"x"),
    ("PUT", "/v2/team/app/blobs/uploads/{upload}?digest=sha256:" + "0" * 64, {"Content-Range": "5-2"}, b"x"),
    ("PUT", "/v2/team/app/blobs/uploads/{upload}?digest=sha512:" + "0" * 128, {}, b"x"),
    (
        "PUT",
        "/v2/team/app/manifests/latest",
        {"Content-Type": OCI_MANIFEST},
        b'{"schemaVersion":2,"config":[]}',
    ),
    ("PUT", "/v2/team/app/manifests/latest", {"Content-Type": OCI_MANIFEST}, b"\x00" * 100),
    ("PUT", "/v2/team/app/manifests/latest", {"Content-Type": OCI_MANIFEST}, b"9" * 5000),
    ("PUT", "/v2/team/app/manifests/latest", {"Content-Type": OCI_MANIFEST}, b"[" * 100000),
    ("PUT", "/v2/team/app/manifests/latest", {"Content-Type": OCI_MANIFEST}, b'{"schemaVersion":2.0}'),
    ("GET", "/v2/team/app/tags/list?n=99999999999999999999999", {}, b""),
    ("GET", "/v2/_catalog?n=99999999999999999999999", {}, b""),
    ("GET", "/v2/_catalog?n=%C2%B2", {}, b""),
    ("GET", "/v2/team/app/tags/list?n=%D9%A3", {}, b""),
    ("GET", "/v2/_catalog?last=%00", {}, b""),
    ("GET", "/v2/team/app/tags/list?last=%00", {}, b""),
    ("GET", "/v2/team/app/referrers/sha256:" + "0" * 64 + "?artifactType=%00", {}, b""),
    ("POST", "/v2/team/app/blobs/uploads/?digest=", {}, b""),
    ("GET", "/v2/team/app/manifests/latest", {"Accept": ",,,;;;"}, b""),
    ("GET", "/v2/team/app/manifests/latest", {"Accept": "\x00"}, b""),
    ("GET", "/v2/team/app/manifests/%00", {}, b""),
    ("PUT", "/v2/team/app/manifests/latest", {"Content-Type": "\x00"}, b"{}"),
    ("POST", "/v2/team/app/blobs/uploads/?mount=sha256:" + "0" * 64 + "&from=%00", {}, b""),
    ("GET", "/v2/%00/tags/list", {}, b""),
    ("GET", "/v2/team/app/blobs/uploads/%00", {}, b""),
    ("DELETE", "/v2/", {}, b""),
    ("GET", "/v2/_catalog/extra", {}, b""),
    ("GET", "/v2//tags/list", {}, b""),
    ("GET", "/v2/team/app/blobs/", {}, b""),
    ("GET", "/v2/team/app/manifests/", {}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), NASTY_REQUESTS)
def test_nasty_requests_never_get_a_500(
    client: TestClient, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    push_image(client, "team/app", "latest")
    push_blob(client, "team/app", b"f")
    upload = client.post("/v2/team/app/blobs/uploads/").headers["Location"].rsplit("/", 1)[1]

    response = client.request(method, path.format(upload=upload), headers=headers, content=body or None)

    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400 and method != "HEAD":
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["code"]


def test_a_failed_request_leaves_the_repository_usable(client: TestClient) -> None:
    body, digest = push_image(client, "team/app", "latest")
    client.put("/v2/team/app/manifests/latest", content=b"{broken", headers={"Content-Type": OCI_MANIFEST})
    client.post("/v2/team/app/blobs/uploads/", params={"digest": digest_of(b"other")}, content=b"data")

    assert client.get("/v2/team/app/manifests/latest").content == body
    assert client.head(f"/v2/team/app/manifests/{digest}").status_code == 200
