from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from berth.cli.client import session as session_file
from berth.cli.client.directory import (
    CLIENT_ID,
    CONTAINER_REGISTRY,
    MANAGEMENT,
    Credential,
    discover,
)
from berth.cli.client.session import SERVICE_PRINCIPAL, CachedToken
from berth.cli.framework import CliError
from tests.unit.cli.conftest import SERVER, TENANT, make_session


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_discovery_reads_the_tenant_from_the_token_endpoint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/organizations/v2.0/.well-known/openid-configuration"
        return httpx.Response(
            200,
            json={
                "issuer": f"http://localhost:5000/{TENANT}/v2.0",
                "token_endpoint": f"{SERVER}/{TENANT}/oauth2/v2.0/token",
            },
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        found = discover(client, SERVER)
    assert found.tenant_id == TENANT
    assert found.service_host == "localhost:5000"


def test_discovery_of_something_else_says_so() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(404))
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(CliError, match="does not look like a berth service"),
    ):
        discover(client, SERVER)


def test_cached_tokens_are_used_and_expired_ones_refreshed(config_dir: Path) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_form(request))
        return httpx.Response(
            200, json={"access_token": "new-acr-audience", "expires_in": 3600, "refresh_token": "rotated"}
        )

    session = make_session()
    session.tokens[CONTAINER_REGISTRY] = CachedToken("old", time.time() + 10)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        credential = Credential(session, client)
        assert credential.token(MANAGEMENT) == "management-token"
        assert seen == []
        assert credential.token(CONTAINER_REGISTRY) == "new-acr-audience"
    assert seen == [
        {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "refresh_token": "directory-refresh-token",
            "scope": "https://containerregistry.azure.net/.default offline_access",
        }
    ]
    saved = session_file.load()
    assert saved is not None
    assert saved.refresh_token == "rotated"
    assert saved.tokens[CONTAINER_REGISTRY].access_token == "new-acr-audience"


def test_service_principals_use_client_credentials(config_dir: Path) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_form(request))
        return httpx.Response(200, json={"access_token": "sp-token", "expires_in": 3600})

    session = make_session()
    session.user_type, session.user_name = SERVICE_PRINCIPAL, "app-id"
    session.refresh_token, session.client_secret = None, "s3cret"
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert Credential(session, client).token(CONTAINER_REGISTRY) == "sp-token"
    assert seen == [
        {
            "grant_type": "client_credentials",
            "client_id": "app-id",
            "client_secret": "s3cret",
            "scope": "https://containerregistry.azure.net/.default",
        }
    ]


def test_a_revoked_refresh_token_asks_to_log_in_again(config_dir: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "AADSTS700082: The refresh token has expired. Trace ID: abc",
            },
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(CliError) as raised:
        Credential(make_session(), client).token(CONTAINER_REGISTRY)
    assert raised.value.message == (
        "AADSTS700082: The refresh token has expired. Please run 'berth login' to setup account."
    )
