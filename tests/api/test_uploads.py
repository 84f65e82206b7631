"""Blob uploads: monolithic, chunked, status, cancel, mount, and the ways they go wrong."""

from __future__ import annotations

import re
import uuid

import pytest

from berth.app import build_app
from berth.config import Settings
from tests.api.oci import BASE_URL, TestClient, assert_error, digest_of, files_under, push_blob

REPO = "team/app"
UPLOAD_LOCATION = re.compile(r"^/v2/team/app/blobs/uploads/(?P<id>[0-9a-f-]{36})$")


def start(client: TestClient, repository: str = REPO) -> str:
    response = client.post(f"/v2/{repository}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return str(response.headers["Location"])


def blob_files(settings: Settings) -> list[str]:
    return [p.name for p in files_under(settings.resolved_storage_path) if "blobs" in p.parts]


def upload_files(settings: Settings) -> list[str]:
    return [p.name for p in files_under(settings.resolved_storage_path) if "uploads" in p.parts]


def upload_bytes(settings: Settings) -> int:
    stored = [p for p in files_under(settings.resolved_storage_path) if "uploads" in p.parts]
    return sum(p.stat().st_size for p in stored)


# --- starting a session ---------------------------------------------------------------------


def test_post_starts_a_session_with_location_range_and_uuid(client: TestClient) -> None:
    response = client.post(f"/v2/{REPO}/blobs/uploads/")

    assert response.status_code == 202
    found = UPLOAD_LOCATION.match(response.headers["Location"])
    assert found is not None, response.headers["Location"]
    assert response.headers["Docker-Upload-UUID"] == found["id"]
    assert response.headers["Range"] == "0-0"
    assert response.headers["Content-Length"] == "0"


def test_post_without_trailing_slash_also_starts_a_session(client: TestClient) -> None:
    response = client.post(f"/v2/{REPO}/blobs/uploads")

    assert response.status_code == 202
    assert UPLOAD_LOCATION.match(response.headers["Location"])


# --- monolithic -----------------------------------------------------------------------------


def test_post_then_put_stores_the_blob(client: TestClient) -> None:
    data = b"monolithic upload"
    digest = digest_of(data)
    location = start(client)

    done = client.put(location, params={"digest": digest}, content=data)

    assert done.status_code == 201
    assert done.headers["Location"] == f"/v2/{REPO}/blobs/{digest}"
    assert done.headers["Docker-Content-Digest"] == digest
    fetched = client.get(done.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.content == data


def test_single_post_with_digest_stores_the_blob(client: TestClient, settings: Settings) -> None:
    data = b"one request"
    digest = digest_of(data)

    done = client.post(
        f"/v2/{REPO}/blobs/uploads/",
        params={"digest": digest},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )

    assert done.status_code == 201
    assert done.headers["Location"] == f"/v2/{REPO}/blobs/{digest}"
    assert done.headers["Docker-Content-Digest"] == digest
    assert client.get(f"/v2/{REPO}/blobs/{digest}").content == data
    assert upload_files(settings) == []


def test_single_post_with_a_wrong_digest_stores_nothing(client: TestClient, settings: Settings) -> None:
    wrong = digest_of(b"something else")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": wrong}, content=b"payload")

    entry = assert_error(response, 400, "DIGEST_INVALID")
    assert entry["detail"] == {"digest": wrong}
    assert client.head(f"/v2/{REPO}/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/{REPO}/blobs/{digest_of(b'payload')}").status_code == 404
    assert blob_files(settings) == []
    assert upload_files(settings) == []


def test_put_with_a_wrong_digest_stores_nothing_and_ends_the_session(
    client: TestClient, settings: Settings
) -> None:
    data = b"the real bytes"
    wrong = digest_of(b"not these bytes")
    location = start(client)

    response = client.put(location, params={"digest": wrong}, content=data)

    assert_error(response, 400, "DIGEST_INVALID")
    assert client.head(f"/v2/{REPO}/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/{REPO}/blobs/{digest_of(data)}").status_code == 404
    assert blob_files(settings) == []
    assert upload_files(settings) == []
    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_put_without_digest_is_400_digest_invalid(client: TestClient) -> None:
    location = start(client)

    assert_error(client.put(location, content=b"data"), 400, "DIGEST_INVALID")


@pytest.mark.parametrize("digest", ["sha256:totallywrong", "sha256:", "garbage", "md5:" + "0" * 32])
def test_put_with_a_garbage_digest_is_400_digest_invalid(client: TestClient, digest: str) -> None:
    location = start(client)

    assert_error(client.put(location, params={"digest": digest}, content=b"data"), 400, "DIGEST_INVALID")


def test_post_with_a_garbage_digest_is_400_digest_invalid(client: TestClient, settings: Settings) -> None:
    response = client.post(
        f"/v2/{REPO}/blobs/uploads/", params={"digest": "sha256:totallywrong"}, content=b"data"
    )

    assert_error(response, 400, "DIGEST_INVALID")
    assert blob_files(settings) == []


def test_pushing_the_same_blob_twice_keeps_one_copy(client: TestClient, settings: Settings) -> None:
    data = b"twice"
    first = push_blob(client, REPO, data)
    second = push_blob(client, "team/other", data)

    assert first == second
    assert blob_files(settings) == [first.split(":", 1)[1]]
    assert upload_files(settings) == []


def test_empty_blob_can_be_pushed(client: TestClient) -> None:
    digest = push_blob(client, REPO, b"")

    response = client.head(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "0"


# --- chunked --------------------------------------------------------------------------------


def test_chunked_upload_with_content_range(client: TestClient) -> None:
    chunks = [b"first-", b"second-", b"third"]
    data = b"".join(chunks)
    location = start(client)
    offset = 0
    for chunk in chunks:
        end = offset + len(chunk) - 1
        response = client.patch(
            location,
            content=chunk,
            headers={"Content-Range": f"{offset}-{end}", "Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 202, response.text
        assert response.headers["Range"] == f"0-{end}"
        assert response.headers["Location"] == location
        offset = end + 1

    done = client.put(location, params={"digest": digest_of(data)})

    assert done.status_code == 201
    assert client.get(f"/v2/{REPO}/blobs/{digest_of(data)}").content == data


def test_the_chunks_of_a_chunked_upload_become_the_blob_without_a_copy(
    client: TestClient, settings: Settings
) -> None:
    """The chunks are appended to the session's spine, which is linked into place."""
    chunks = [b"one, ", b"two, ", b"three"]
    location = start(client)
    offset = 0
    for chunk in chunks:
        end = offset + len(chunk) - 1
        client.patch(location, content=chunk, headers={"Content-Range": f"{offset}-{end}"})
        offset = end + 1
    (spine,) = [p for p in files_under(settings.resolved_storage_path) if p.name == ".spine"]
    inode = spine.stat().st_ino

    data = b"".join(chunks)
    assert client.put(location, params={"digest": digest_of(data)}).status_code == 201

    (blob,) = [p for p in files_under(settings.resolved_storage_path) if "blobs" in p.parts]
    assert blob.stat().st_ino == inode
    assert blob.read_bytes() == data
    assert upload_files(settings) == []


def test_chunked_upload_without_content_range_appends(client: TestClient) -> None:
    """Docker streams the whole layer in one PATCH without Content-Range."""
    location = start(client)
    assert client.patch(location, content=b"abc").headers["Range"] == "0-2"
    assert client.patch(location, content=b"def").headers["Range"] == "0-5"

    done = client.put(location, params={"digest": digest_of(b"abcdef")})

    assert done.status_code == 201


def test_final_chunk_may_come_with_the_closing_put(client: TestClient) -> None:
    location = start(client)
    client.patch(location, content=b"head-", headers={"Content-Range": "0-4"})

    done = client.put(
        location,
        params={"digest": digest_of(b"head-tail")},
        content=b"tail",
        headers={"Content-Range": "5-8"},
    )

    assert done.status_code == 201
    assert client.get(f"/v2/{REPO}/blobs/{digest_of(b'head-tail')}").content == b"head-tail"


def test_content_range_with_bytes_prefix_and_total_is_accepted(client: TestClient) -> None:
    location = start(client)

    response = client.patch(location, content=b"12345", headers={"Content-Range": "bytes 0-4/5"})

    assert response.status_code == 202
    assert response.headers["Range"] == "0-4"


@pytest.mark.parametrize(
    ("content_range", "why"),
    [("10-14", "out of order: skips bytes"), ("0-4", "stale: repeats bytes"), ("3-7", "overlaps")],
)
def test_chunk_that_does_not_continue_the_upload_is_416(
    client: TestClient, content_range: str, why: str
) -> None:
    location = start(client)
    client.patch(location, content=b"12345", headers={"Content-Range": "0-4"})

    response = client.patch(location, content=b"67890", headers={"Content-Range": content_range})

    assert_error(response, 416, "RANGE_INVALID")
    assert response.headers["Location"] == location, why
    assert response.headers["Range"] == "0-4"
    # The session is intact and continues where it was.
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-4"
    assert client.patch(location, content=b"67890", headers={"Content-Range": "5-9"}).status_code == 202
    done = client.put(location, params={"digest": digest_of(b"1234567890")})
    assert done.status_code == 201


def test_first_chunk_must_start_at_zero(client: TestClient) -> None:
    location = start(client)

    response = client.patch(location, content=b"abc", headers={"Content-Range": "1-3"})

    assert_error(response, 416, "RANGE_INVALID")
    assert response.headers["Range"] == "0-0"
    assert response.headers["Location"] == location


@pytest.mark.parametrize("content_range", ["abc", "5-", "-5", "4-2"])
def test_malformed_content_range_is_416(client: TestClient, content_range: str) -> None:
    location = start(client)
    client.patch(location, content=b"abcde", headers={"Content-Range": "0-4"})

    response = client.patch(location, content=b"xyz", headers={"Content-Range": content_range})

    assert_error(response, 416, "RANGE_INVALID")
    assert response.headers["Location"] == location
    assert response.headers["Range"] == "0-4"


def test_content_length_that_disagrees_with_content_range_is_416(client: TestClient) -> None:
    location = start(client)

    response = client.patch(location, content=b"abc", headers={"Content-Range": "0-2", "Content-Length": "5"})

    assert_error(response, 416, "RANGE_INVALID")
    assert response.headers["Range"] == "0-0"
    assert client.get(location).headers["Range"] == "0-0"


def test_body_shorter_than_content_length_is_400_size_invalid(client: TestClient) -> None:
    location = start(client)
    client.patch(location, content=b"abc")

    response = client.patch(location, content=b"defg", headers={"Content-Length": "10"})

    assert_error(response, 400, "SIZE_INVALID")
    # The bytes of the failed request are not part of the session.
    assert client.get(location).headers["Range"] == "0-2"
    client.patch(location, content=b"def")
    assert client.put(location, params={"digest": digest_of(b"abcdef")}).status_code == 201


def test_monolithic_body_shorter_than_content_length_is_400_and_stores_nothing(
    client: TestClient, settings: Settings
) -> None:
    data = b"short"

    response = client.post(
        f"/v2/{REPO}/blobs/uploads/",
        params={"digest": digest_of(data)},
        content=data,
        headers={"Content-Length": "99"},
    )

    assert_error(response, 400, "SIZE_INVALID")
    assert client.head(f"/v2/{REPO}/blobs/{digest_of(data)}").status_code == 404
    assert blob_files(settings) == []


def test_non_numeric_content_length_is_400_size_invalid(client: TestClient) -> None:
    location = start(client)

    response = client.patch(location, content=b"abc", headers={"Content-Length": "three"})

    assert_error(response, 400, "SIZE_INVALID")


# --- status and cancel ----------------------------------------------------------------------


def test_get_status_is_204_with_range_location_and_uuid(client: TestClient) -> None:
    location = start(client)
    upload_id = location.rsplit("/", 1)[1]
    client.patch(location, content=b"0123456789")

    response = client.get(location)

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Range"] == "0-9"
    assert response.headers["Location"] == location
    assert response.headers["Docker-Upload-UUID"] == upload_id


def test_delete_cancels_the_session_and_its_bytes(client: TestClient, settings: Settings) -> None:
    location = start(client)
    client.patch(location, content=b"partial")
    assert upload_bytes(settings) == len(b"partial")

    response = client.delete(location)

    assert response.status_code == 204
    assert upload_files(settings) == []
    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.patch(location, content=b"more"), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.put(location, params={"digest": digest_of(b"partial")}), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(client.delete(location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_completed_session_is_gone(client: TestClient) -> None:
    location = start(client)
    client.put(location, params={"digest": digest_of(b"x")}, content=b"x")

    assert_error(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN")


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("upload_id", [str(uuid.uuid4()), "not-a-uuid", "%2E%2E", "%00"])
def test_unknown_upload_id_is_404_blob_upload_unknown(
    client: TestClient, method: str, upload_id: str
) -> None:
    params = {"digest": digest_of(b"x")} if method == "PUT" else {}

    response = client.request(method, f"/v2/{REPO}/blobs/uploads/{upload_id}", params=params, content=b"x")

    assert_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def test_session_belongs_to_its_repository(client: TestClient) -> None:
    location = start(client)
    upload_id = location.rsplit("/", 1)[1]

    response = client.get(f"/v2/team/other/blobs/uploads/{upload_id}")

    assert_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def test_session_survives_a_restart(client: TestClient, settings: Settings) -> None:
    """Upload sessions live in the metadata database and storage, not in the process."""
    location = start(client)
    client.patch(location, content=b"before restart, ", headers={"Content-Range": "0-15"})
    client.__exit__(None, None, None)  # lifespan shutdown: the first process is gone

    data = b"before restart, after restart"
    with TestClient(build_app(settings), base_url=BASE_URL) as restarted:
        assert restarted.get(location).headers["Range"] == "0-15"
        chunk = restarted.patch(location, content=b"after restart", headers={"Content-Range": "16-28"})
        assert chunk.status_code == 202
        done = restarted.put(location, params={"digest": digest_of(data)})
        assert done.status_code == 201
        assert restarted.get(f"/v2/{REPO}/blobs/{digest_of(data)}").content == data


# --- cross-repository mount -----------------------------------------------------------------


def test_mount_from_another_repository_is_201(client: TestClient) -> None:
    data = b"shared layer"
    digest = push_blob(client, "team/base", data)

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": "team/base"})

    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/{REPO}/blobs/{digest}"
    assert response.headers["Docker-Content-Digest"] == digest
    assert client.get(f"/v2/{REPO}/blobs/{digest}").content == data


def test_mount_without_from_finds_the_blob_in_the_registry(client: TestClient) -> None:
    digest = push_blob(client, "team/base", b"somewhere in this registry")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest})

    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/{REPO}/blobs/{digest}"
    assert response.headers["Docker-Content-Digest"] == digest
    assert client.head(f"/v2/{REPO}/blobs/{digest}").status_code == 200


def test_mount_of_an_unknown_blob_falls_back_to_an_upload_session(client: TestClient) -> None:
    unknown = digest_of(b"never pushed")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": unknown, "from": "team/base"})

    assert response.status_code == 202
    assert UPLOAD_LOCATION.match(response.headers["Location"])
    assert response.headers["Range"] == "0-0"
    assert client.head(f"/v2/{REPO}/blobs/{unknown}").status_code == 404
    # The session is usable for the upload the client now makes.
    done = client.put(response.headers["Location"], params={"digest": unknown}, content=b"never pushed")
    assert done.status_code == 201


def test_mount_from_a_repository_that_lacks_the_blob_falls_back(client: TestClient) -> None:
    digest = push_blob(client, "team/base", b"only in base")
    push_blob(client, "team/empty", b"unrelated")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": "team/empty"})

    assert response.status_code == 202
    assert client.head(f"/v2/{REPO}/blobs/{digest}").status_code == 404


def test_mount_from_an_unknown_repository_falls_back(client: TestClient) -> None:
    digest = push_blob(client, "team/base", b"only in base")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": "team/nothing"})

    assert response.status_code == 202


def test_mount_with_a_garbage_digest_is_400(client: TestClient) -> None:
    response = client.post(
        f"/v2/{REPO}/blobs/uploads/", params={"mount": "sha256:totallywrong", "from": "team/base"}
    )

    assert_error(response, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("source", ["Team/Base", "team//base", "../base", "team/base/", ""])
def test_mount_from_an_invalid_repository_name_is_400(client: TestClient, source: str) -> None:
    digest = push_blob(client, "team/base", b"only in base")

    response = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": source})

    entry = assert_error(response, 400, "NAME_INVALID")
    assert entry["detail"] == {"name": source}


@pytest.mark.parametrize("number", ["9" * 5000, str(2**64)])
def test_content_range_numbers_of_any_size_are_416_not_an_error(client: TestClient, number: str) -> None:
    location = start(client)

    response = client.patch(location, content=b"x", headers={"Content-Range": f"0-{number}"})

    assert_error(response, 416, "RANGE_INVALID")
