"""Integers a client sends to the registry plane are range-checked into a 4xx (issue 8, finding 5).

Paging ``n`` of any length, ``last`` markers holding a NUL, ``Content-Length`` values no body
has, and ``Range`` offsets past 2**63 (or past the 4,300 digits Python converts) each answered
500 somewhere; each now gets its answer in the OCI error envelope, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.api.oci import TestClient, assert_error, push_blob, push_image

MANY_NINES = "9" * 5000
DIGITS_NOT_ASCII = "\u00b2"  # SUPERSCRIPT TWO: str.isdigit() says yes, int() says no


@pytest.fixture
def pushed(client: TestClient) -> None:
    push_image(client, "team/app", "v1")


@pytest.mark.parametrize(
    "path", ["/v2/_catalog", "/v2/team/app/tags/list", "/acr/v1/_catalog", "/acr/v1/team/app/_tags"]
)
@pytest.mark.parametrize("n", [MANY_NINES, "0" * 5000 + "1", str(2**64)])
def test_a_page_size_of_any_length_is_a_page(client: TestClient, pushed: None, path: str, n: str) -> None:
    response = client.get(path, params={"n": n})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/v2/_catalog", "/v2/team/app/tags/list", "/acr/v1/team/app/_manifests"])
@pytest.mark.parametrize("n", [DIGITS_NOT_ASCII, "\u0663", "-1", "1e3"])
def test_a_page_size_that_is_not_ascii_digits_is_400(
    client: TestClient, pushed: None, path: str, n: str
) -> None:
    assert_error(client.get(path, params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")


@pytest.mark.parametrize(
    "path",
    ["/acr/v1/_catalog", "/acr/v1/team/app/_tags", "/acr/v1/team/app/_manifests", "/v2/team/app/tags/list"],
)
def test_a_last_marker_holding_a_nul_pages_after_what_precedes_it(
    client: TestClient, pushed: None, path: str
) -> None:
    response = client.get(
        path, params={"last": "a\x00b", "orderby": "timedesc"} if "_manifests" in path else {"last": "a\x00b"}
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("length", [MANY_NINES, str(2**63), DIGITS_NOT_ASCII, "-1"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v2/team/app/manifests/v2"), ("PATCH", "/acr/v1/team/app"), ("POST", "/oauth2/token")],
)
def test_a_content_length_no_body_has_is_400_size_invalid(
    client: TestClient, pushed: None, method: str, path: str, length: str
) -> None:
    response = client.request(
        method, path, content=b"{}", headers={"Content-Length": length.encode("latin-1")}
    )

    entry = assert_error(response, 400, "SIZE_INVALID")
    assert len(entry["message"]) < 200


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (f"bytes=0-{MANY_NINES}", 206),
        (f"bytes=-{MANY_NINES}", 206),
        (f"bytes={MANY_NINES}-", 416),
        (f"bytes={2**63}-{2**64}", 416),
        (f"bytes={DIGITS_NOT_ASCII}-", 200),
    ],
)
def test_blob_ranges_of_any_length_are_answered(client: TestClient, header: str, status: int) -> None:
    digest = push_blob(client, "team/app", b"0123456789")

    response = client.get(f"/v2/team/app/blobs/{digest}", headers={"Range": header.encode("latin-1")})

    assert response.status_code == status, response.text
    if status == 416:
        entry = assert_error(response, 416, "RANGE_INVALID")
        assert len(entry["message"]) < 200
    else:
        assert response.content == b"0123456789"
