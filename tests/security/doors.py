"""The doors an ACR token opens, and genuine tokens to compare forgeries with.

An access token is for ``Authorization: Bearer`` on a data call; a refresh token is the
password of the null GUID (on a data call, or at ``GET /oauth2/token``) and the
``refresh_token`` of ``POST /oauth2/token``'s refresh grant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from tests.api.access.wire import TestClient, basic, bearer, exchange, sp_directory_token
from tests.security.conftest import Secure
from tests.security.matrix_world import host_of
from tests.support.access_setup import NULL_GUID, AccessSetup, ServicePrincipal

OWN, OTHER = "default", "otherreg"
REPOSITORY = "team/app"
SCOPE = f"repository:{REPOSITORY}:pull"
DATA_PATH = f"/v2/{REPOSITORY}/tags/list"


@dataclass(frozen=True)
class Lab:
    secure: Secure
    sp: ServicePrincipal  # AcrPush on the own registry

    @property
    def client(self) -> TestClient:
        return self.secure.client

    @property
    def setup(self) -> AccessSetup:
        return self.secure.setup


# --- the doors ---------------------------------------------------------------------------------

Door = Callable[[Lab, str, str], httpx.Response]


def bearer_data(lab: Lab, token: str, registry: str = OWN) -> httpx.Response:
    response: httpx.Response = lab.client.get(DATA_PATH, headers={**bearer(token), "Host": host_of(registry)})
    return response


def null_guid_data(lab: Lab, token: str, registry: str = OWN) -> httpx.Response:
    response: httpx.Response = lab.client.get(
        DATA_PATH, headers={**basic(NULL_GUID, token), "Host": host_of(registry)}
    )
    return response


def null_guid_token(lab: Lab, token: str, registry: str = OWN) -> httpx.Response:
    host = host_of(registry)
    response: httpx.Response = lab.client.get(
        "/oauth2/token",
        params={"service": host, "scope": SCOPE, "account": NULL_GUID},
        headers={**basic(NULL_GUID, token), "Host": host},
    )
    return response


def refresh_grant(lab: Lab, token: str, registry: str = OWN) -> httpx.Response:
    host = host_of(registry)
    response: httpx.Response = lab.client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "service": host, "scope": SCOPE, "refresh_token": token},
        headers={"Host": host},
    )
    return response


ACCESS_DOORS: dict[str, Door] = {"bearer-data-call": bearer_data}
REFRESH_DOORS: dict[str, Door] = {
    "null-guid-data-call": null_guid_data,
    "null-guid-at-token-get": null_guid_token,
    "refresh-grant": refresh_grant,
}
DOORS = {"access": ACCESS_DOORS, "refresh": REFRESH_DOORS}


def refused(response: httpx.Response, door: str) -> list[str]:
    """What is wrong with a refusal (nothing when it is ACR's 401)."""
    problems = []
    if response.status_code != 401:
        return [f"{door}: {response.status_code} {response.text[:200]}"]
    code = response.json()["errors"][0]["code"]
    if code != "UNAUTHORIZED":
        problems.append(f"{door}: code {code}")
    if door == "bearer-data-call" and not response.headers["WWW-Authenticate"].endswith(
        ',error="invalid_token"'
    ):
        problems.append(f"{door}: challenge {response.headers['WWW-Authenticate']}")
    return problems


def assert_refused_everywhere(lab: Lab, token: str, doors: Mapping[str, Door], registry: str = OWN) -> None:
    problems = [p for name, door in doors.items() for p in refused(door(lab, token, registry), name)]
    assert not problems, problems


# --- genuine tokens ----------------------------------------------------------------------------


def access_token_of(
    lab: Lab, username: str, password: str, registry: str = OWN, scopes: tuple[str, ...] = (SCOPE,)
) -> str:
    host = host_of(registry)
    response = lab.client.get(
        "/oauth2/token",
        params={"service": host, "scope": list(scopes), "account": username},
        headers={**basic(username, password), "Host": host},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def refresh_token_of(lab: Lab, sp: ServicePrincipal) -> str:
    response = exchange(lab.client, sp_directory_token(lab.client, lab.setup.tenant_id, sp.app_id, sp.secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token
