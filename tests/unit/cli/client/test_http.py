from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from berth.cli.client.http import ApiError, ca_bundle, error_message, raise_for_status, tls_verify
from berth.cli.framework import CliError


def _response(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_error_bodies_of_every_shape() -> None:
    arm = _response(409, {"error": {"code": "ScopeMapInUse", "message": "The scope map is used by t1."}})
    assert error_message(arm) == ("(ScopeMapInUse) The scope map is used by t1.", "ScopeMapInUse")
    directory = _response(
        400, {"error": "invalid_grant", "error_description": "AADSTS50126: Bad password. Trace ID: x"}
    )
    assert error_message(directory) == ("AADSTS50126: Bad password.", "invalid_grant")
    registry = _response(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
    assert error_message(registry) == ("authentication required", "UNAUTHORIZED")
    assert error_message(httpx.Response(502, text="")) == ("502 Bad Gateway", None)


def test_raise_for_status_keeps_the_status() -> None:
    raise_for_status(httpx.Response(204))
    with pytest.raises(ApiError) as raised:
        raise_for_status(_response(404, {"error": {"code": "ResourceNotFound", "message": "gone"}}))
    assert raised.value.status == 404
    assert raised.value.exit_code == 3
    assert raised.value.code == "ResourceNotFound"


def test_ca_bundle_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/ssl")
    assert ca_bundle() == "/ssl"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/requests")
    assert ca_bundle() == "/requests"
    assert ca_bundle("/flag") == "/flag"


def test_tls_verify_builds_a_context_or_explains(tmp_path: Path) -> None:
    assert tls_verify(None) is True
    with pytest.raises(CliError, match="Cannot use the CA certificate file"):
        tls_verify(str(tmp_path / "missing.pem"))
    import certifi

    assert isinstance(tls_verify(certifi.where()), ssl.SSLContext)
