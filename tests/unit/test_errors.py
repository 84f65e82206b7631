"""berth.errors: the one registry of wire errors and the envelope clients parse."""

from __future__ import annotations

import json

import pytest

from berth import errors
from berth.errors import ErrorCode, WireError, error_body, register, registered_codes

# The error codes of the OCI distribution spec (v1.1) and the status each one goes with here.
SPEC_CODES = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
}


def test_every_spec_code_is_registered_with_its_status() -> None:
    registered = {entry.code: entry.status for entry in registered_codes()}

    for code, status in SPEC_CODES.items():
        assert registered.get(code) == status, code


def test_codes_are_unique_upper_case_identifiers_with_messages() -> None:
    entries = registered_codes()

    assert len({entry.code for entry in entries}) == len(entries)
    for entry in entries:
        assert entry.code.replace("_", "").isalpha()
        assert entry.code.isupper()
        assert 400 <= entry.status <= 599
        assert entry.message


def test_registering_a_code_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("BLOB_UNKNOWN", 404, "again")


def test_envelope_shape() -> None:
    body = json.loads(error_body(errors.BLOB_UNKNOWN, "no such blob", {"digest": "sha256:x"}))

    assert body == {
        "errors": [{"code": "BLOB_UNKNOWN", "message": "no such blob", "detail": {"digest": "sha256:x"}}]
    }


def test_envelope_defaults_to_the_registered_message_and_omits_absent_detail() -> None:
    body = json.loads(error_body(errors.NAME_UNKNOWN))

    assert body == {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}


def test_wire_error_renders_the_envelope_and_its_status() -> None:
    error = WireError(errors.MANIFEST_UNKNOWN, "manifest tagged by 'v1' is not found", detail={"Tag": "v1"})

    assert error.http_status == 404
    assert error.text == "manifest tagged by 'v1' is not found"
    assert str(error) == error.text
    assert json.loads(error.body()) == {
        "errors": [
            {
                "code": "MANIFEST_UNKNOWN",
                "message": "manifest tagged by 'v1' is not found",
                "detail": {"Tag": "v1"},
            }
        ]
    }


def test_wire_error_status_may_be_overridden_without_changing_the_code() -> None:
    error = WireError(errors.SIZE_INVALID, "too large", status=413)

    assert error.http_status == 413
    assert json.loads(error.body())["errors"][0]["code"] == "SIZE_INVALID"


def test_wire_error_without_message_uses_the_registered_one() -> None:
    error = WireError(errors.DENIED)

    assert error.text == "requested access to the resource is denied"
    assert error.headers == {}


def test_wire_errors_carry_their_own_headers() -> None:
    first = WireError(errors.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    second = WireError(errors.UNAUTHORIZED)

    assert first.headers == {"WWW-Authenticate": "Bearer"}
    assert second.headers == {}


def test_error_code_is_a_value() -> None:
    assert ErrorCode("X", 400, "m") == ErrorCode("X", 400, "m")
