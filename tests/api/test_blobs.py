"""Blobs: ``GET|HEAD|DELETE /v2/<name>/blobs/<digest>``, byte ranges included."""

from __future__ import annotations

import pytest

from berth.config import Settings
from tests.api.oci import TestClient, assert_error, digest_of, files_under, push_blob

DATA = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable
UNKNOWN = "sha256:" + "0" * 64


@pytest.fixture
def blob(client: TestClient) -> str:
    return push_blob(client, "library/data", DATA)


def test_head_reports_size_and_digest_without_a_body(client: TestClient, blob: str) -> None:
    response = client.head(f"/v2/library/data/blobs/{blob}")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.headers["Docker-Content-Digest"] == blob
    assert response.headers["Accept-Ranges"] == "bytes"


def test_get_returns_the_bytes_and_the_digest(client: TestClient, blob: str) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}")

    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["Docker-Content-Digest"] == blob
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["ETag"] == f'"{blob}"'


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=1000-", 1000, 1023),
        ("bytes=1000-5000", 1000, 1023),  # an end past the blob is clamped
        ("bytes=-24", 1000, 1023),  # suffix: the last 24 bytes
        ("bytes=-5000", 0, 1023),  # a suffix longer than the blob is the whole blob
        ("bytes=1023-1023", 1023, 1023),
    ],
)
def test_get_with_range_is_206_with_content_range(
    client: TestClient, blob: str, range_header: str, start: int, end: int
) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": range_header})

    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.headers["Docker-Content-Digest"] == blob


def test_head_with_range_reports_the_partial_length(client: TestClient, blob: str) -> None:
    response = client.head(f"/v2/library/data/blobs/{blob}", headers={"Range": "bytes=0-99"})

    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(DATA)}"
    assert response.headers["Content-Length"] == "100"


@pytest.mark.parametrize("range_header", ["bytes=1024-", "bytes=5000-6000", "bytes=20-10", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_the_size(client: TestClient, blob: str, range_header: str) -> None:
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": range_header})

    assert_error(response, 416, "RANGE_INVALID")
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("range_header", ["items=0-5", "bytes=0-1,5-6", "bytes=-", "bytes=abc"])
def test_range_berth_cannot_serve_is_ignored(client: TestClient, blob: str, range_header: str) -> None:
    """RFC 9110 lets a server ignore a Range it does not support: the whole blob, 200."""
    response = client.get(f"/v2/library/data/blobs/{blob}", headers={"Range": range_header})

    assert response.status_code == 200
    assert response.content == DATA
    assert "Content-Range" not in response.headers


def test_empty_blob_suffix_range_is_ignored_and_offset_range_unsatisfiable(client: TestClient) -> None:
    """No Content-Range can describe zero bytes: a suffix range gets the whole (empty) blob."""
    digest = push_blob(client, "library/data", b"")

    suffix = client.get(f"/v2/library/data/blobs/{digest}", headers={"Range": "bytes=-10"})
    offset = client.get(f"/v2/library/data/blobs/{digest}", headers={"Range": "bytes=0-"})

    assert suffix.status_code == 200
    assert suffix.content == b""
    assert suffix.headers["Content-Length"] == "0"
    assert "Content-Range" not in suffix.headers
    assert_error(offset, 416, "RANGE_INVALID")
    assert offset.headers["Content-Range"] == "bytes */0"


def test_unknown_blob_is_404_blob_unknown(client: TestClient, blob: str) -> None:
    get = client.get(f"/v2/library/data/blobs/{UNKNOWN}")
    head = client.head(f"/v2/library/data/blobs/{UNKNOWN}")

    entry = assert_error(get, 404, "BLOB_UNKNOWN")
    assert entry["detail"] == {"digest": UNKNOWN}
    assert head.status_code == 404
    assert head.content == b""


def test_blob_of_an_unknown_repository_is_404_blob_unknown(client: TestClient, blob: str) -> None:
    response = client.get(f"/v2/library/nothing/blobs/{blob}")

    assert_error(response, 404, "BLOB_UNKNOWN")


def test_blob_is_visible_only_in_the_repositories_that_link_it(client: TestClient, blob: str) -> None:
    """A digest pushed to one repository is not readable through another without a mount."""
    push_blob(client, "library/other", b"something else")

    response = client.head(f"/v2/library/other/blobs/{blob}")

    assert response.status_code == 404


def test_delete_unlinks_the_blob_from_the_repository(client: TestClient, blob: str) -> None:
    deleted = client.delete(f"/v2/library/data/blobs/{blob}")

    assert deleted.status_code == 202
    assert deleted.headers["Docker-Content-Digest"] == blob
    assert client.head(f"/v2/library/data/blobs/{blob}").status_code == 404
    assert_error(client.get(f"/v2/library/data/blobs/{blob}"), 404, "BLOB_UNKNOWN")


def test_delete_of_an_unknown_blob_is_404(client: TestClient, blob: str) -> None:
    assert_error(client.delete(f"/v2/library/data/blobs/{UNKNOWN}"), 404, "BLOB_UNKNOWN")
    assert_error(client.delete(f"/v2/library/nothing/blobs/{blob}"), 404, "BLOB_UNKNOWN")


def test_delete_twice_is_404_the_second_time(client: TestClient, blob: str) -> None:
    assert client.delete(f"/v2/library/data/blobs/{blob}").status_code == 202

    assert_error(client.delete(f"/v2/library/data/blobs/{blob}"), 404, "BLOB_UNKNOWN")


def test_delete_in_one_repository_leaves_another_link_alone(client: TestClient, blob: str) -> None:
    push_blob(client, "library/copy", DATA)

    assert client.delete(f"/v2/library/data/blobs/{blob}").status_code == 202

    response = client.get(f"/v2/library/copy/blobs/{blob}")
    assert response.status_code == 200
    assert response.content == DATA


def test_blob_is_stored_once_under_its_digest(client: TestClient, settings: Settings, blob: str) -> None:
    push_blob(client, "library/copy", DATA)

    stored = [p for p in files_under(settings.resolved_storage_path) if "blobs" in p.parts]
    assert [p.name for p in stored] == [blob.split(":", 1)[1]]
    assert stored[0].read_bytes() == DATA


@pytest.mark.parametrize(
    "reference", ["sha256:totallywrong", "sha256:" + "A" * 64, "md5:" + "0" * 32, "nocolon"]
)
def test_garbage_digest_is_400_digest_invalid(client: TestClient, blob: str, reference: str) -> None:
    for method in ("GET", "HEAD", "DELETE"):
        response = client.request(method, f"/v2/library/data/blobs/{reference}")
        assert response.status_code == 400, (method, response.text)
        if method != "HEAD":
            assert_error(response, 400, "DIGEST_INVALID")


def test_sha512_blob_round_trips(client: TestClient) -> None:
    data = b"content addressed by sha512"
    digest = digest_of(data, "sha512")
    started = client.post("/v2/library/data/blobs/uploads/")
    done = client.put(started.headers["Location"], params={"digest": digest}, content=data)

    assert done.status_code == 201
    assert done.headers["Docker-Content-Digest"] == digest
    fetched = client.get(f"/v2/library/data/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Docker-Content-Digest"] == digest
