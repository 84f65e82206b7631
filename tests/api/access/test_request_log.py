"""The request log (``berth.request``): one line per request on both planes, never a secret."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from berth.app import BerthApp, build_app
from berth.config import Settings
from berth.events.requestlog import REQUEST_LOGGER
from tests.api.access.wire import BASE_URL, basic, token_get
from tests.support.access_setup import AccessSetup

pytestmark = pytest.mark.usefixtures("request_log")


@pytest.fixture
def request_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.request for r in caplog.records if r.name == REQUEST_LOGGER]  # type: ignore[attr-defined]


def messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == REQUEST_LOGGER)


def test_a_registry_request_is_one_line_with_its_correlation_id_and_identity(
    client: TestClient, admin: tuple[str, str], request_log: pytest.LogCaptureFixture
) -> None:
    request_log.clear()
    response = client.get("/v2/_catalog", headers=basic(*admin))

    assert response.status_code == 200
    [line] = lines(request_log)
    assert line["correlation_id"] == response.headers["X-Ms-Correlation-Request-Id"]
    assert line["identity"] == "default"  # the admin user is named after its registry
    assert line["registry"] == "default"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v2/_catalog", 200)
    assert line["bytes_out"] == len(response.content)
    assert line["client"] == "testclient"
    assert line["duration_ms"] >= 0
    assert admin[1] not in messages(request_log)
    message = messages(request_log)
    assert '"GET /v2/_catalog" 200' in message
    assert response.headers["X-Ms-Correlation-Request-Id"] in message


def test_the_query_and_credentials_stay_out_of_the_log(
    client: TestClient, admin: tuple[str, str], request_log: pytest.LogCaptureFixture
) -> None:
    request_log.clear()
    ok = token_get(client, *admin, "repository:hello:pull")
    wrong = token_get(client, admin[0], "not-the-Passw0rd", "repository:hello:pull", secret="in-query-S3cret")

    assert (ok.status_code, wrong.status_code) == (200, 401)
    first, second = lines(request_log)
    assert (first["path"], first["status"], first["identity"]) == ("/oauth2/token", 200, "default")
    assert (second["path"], second["status"]) == ("/oauth2/token", 401)
    text = messages(request_log) + repr(lines(request_log))
    for secret in (admin[1], "not-the-Passw0rd", "in-query-S3cret", ok.json()["access_token"]):
        assert secret not in text


def test_the_service_plane_is_logged_with_the_signed_in_caller(
    client: TestClient, setup: AccessSetup, request_log: pytest.LogCaptureFixture
) -> None:
    sp = setup.service_principal("log-sp")
    request_log.clear()
    signed_in = client.post(
        f"/{sp.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp.app_id,
            "client_secret": sp.secret,
            "scope": "https://management.azure.com/.default",
        },
    )
    token = signed_in.json()["access_token"]
    listed = client.get("/subscriptions", headers={"Authorization": f"Bearer {token}"})
    health = client.get("/healthz")

    assert listed.status_code == 200, listed.text
    sign_in, management, healthz = lines(request_log)
    assert (sign_in["method"], sign_in["status"], sign_in["identity"]) == ("POST", 200, sp.app_id)
    assert management["identity"] == sp.app_id
    assert management["status"] == 200
    assert management["correlation_id"] == listed.headers["X-Ms-Correlation-Request-Id"]
    assert (healthz["path"], healthz["identity"], healthz["registry"]) == ("/healthz", None, None)
    assert healthz["correlation_id"] == health.headers["X-Ms-Correlation-Request-Id"]
    assert sp.secret not in messages(request_log)
    assert token not in messages(request_log)


def test_control_characters_in_the_path_are_escaped(
    client: TestClient, request_log: pytest.LogCaptureFixture
) -> None:
    request_log.clear()
    client.get("/v2/a%0aFAKE%20LINE/manifests/x")

    assert "\n" not in messages(request_log)
    assert lines(request_log)[0]["path"] == "/v2/a\\nFAKE LINE/manifests/x"


def _app_with(make_settings: Callable[..., Settings], **overrides: Any) -> BerthApp:
    return build_app(make_settings(**overrides))


@pytest.mark.parametrize(
    ("overrides", "logged"),
    [
        ({"request_log": False}, []),
        ({"request_log_sample": 0}, [401]),  # failures are always kept
        ({"request_log_sample": 100}, [401, 200]),
    ],
)
def test_off_and_sampling(
    make_settings: Callable[..., Settings],
    request_log: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    logged: list[int],
) -> None:
    with TestClient(_app_with(make_settings, **overrides), base_url=BASE_URL) as client:
        request_log.clear()
        client.get("/v2/")
        client.get("/healthz")
    assert [line["status"] for line in lines(request_log)] == logged
