"""What az and MSAL need from the directory: the scope echoed, the Graph resource, user realms
and the device-code flow approved through its page."""

from __future__ import annotations

import re

import httpx

from tests.api.management.arm import OWNER_PASSWORD, SERVICE_URL, TestClient

TOKEN = "/organizations/oauth2/v2.0/token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OWNER = "admin@localhost"


def _password_grant(client: TestClient, scope: str) -> httpx.Response:
    form = {"grant_type": "password", "username": OWNER, "password": OWNER_PASSWORD, "scope": scope}
    answer: httpx.Response = client.post(TOKEN, data=form)
    return answer


def test_the_requested_scope_is_echoed_exactly_without_oidc_scopes(client: TestClient) -> None:
    answer = _password_grant(client, "https://management.azure.com//.default offline_access openid profile")

    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "https://management.azure.com//.default"
    token = answer.json()["access_token"]
    listed = client.get("/subscriptions", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200


def test_berths_own_address_is_the_graph_resource(client: TestClient) -> None:
    answer = _password_grant(client, f"{SERVICE_URL}//.default")

    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == f"{SERVICE_URL}//.default"
    users = client.get(
        "/v1.0/users",
        params={"$filter": f"userPrincipalName eq '{OWNER}'"},
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert [u["userPrincipalName"] for u in users.json()["value"]] == [OWNER]


def test_an_unknown_resource_is_still_refused(client: TestClient) -> None:
    answer = _password_grant(client, "https://vault.azure.net/.default")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_user_realm_is_managed(client: TestClient) -> None:
    answer = client.get(f"/common/userrealm/{OWNER}", params={"api-version": "1.0"})

    assert answer.status_code == 200
    assert answer.json()["account_type"] == "Managed"
    assert answer.json()["domain_name"] == "localhost"


def _start_device_flow(client: TestClient) -> dict[str, str]:
    discovery = client.get("/organizations/v2.0/.well-known/openid-configuration").json()
    endpoint = discovery["device_authorization_endpoint"]
    assert DEVICE_GRANT in discovery["grant_types_supported"]
    started = client.post(
        endpoint.removeprefix(SERVICE_URL),
        data={
            "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "scope": "https://management.azure.com//.default offline_access",
        },
    )
    assert started.status_code == 200, started.text
    flow: dict[str, str] = started.json()
    return flow


def _poll(client: TestClient, flow: dict[str, str]) -> httpx.Response:
    answer: httpx.Response = client.post(
        TOKEN,
        data={
            "grant_type": DEVICE_GRANT,
            "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "device_code": flow["device_code"],
        },
    )
    return answer


def test_device_code_flow_approved_through_the_page(client: TestClient) -> None:
    flow = _start_device_flow(client)
    assert flow["verification_uri"] == f"{SERVICE_URL}/devicelogin"
    assert flow["user_code"] in flow["message"]

    pending = _poll(client, flow)
    page = client.get("/devicelogin")
    wrong = client.post(
        "/devicelogin", data={"user_code": flow["user_code"], "username": OWNER, "password": "not-it-at-all"}
    )
    still_pending = _poll(client, flow)
    approved = client.post(
        "/devicelogin",
        data={"user_code": flow["user_code"].lower(), "username": OWNER, "password": OWNER_PASSWORD},
    )
    tokens = _poll(client, flow)
    again = _poll(client, flow)

    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    assert page.status_code == 200
    assert re.search(r'<input name="user_code"', page.text)
    assert wrong.status_code == 400
    assert "not right" in wrong.text
    assert still_pending.json()["error"] == "authorization_pending"
    assert approved.status_code == 200
    assert f"Signed in as {OWNER}" in approved.text
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["scope"] == "https://management.azure.com//.default"
    assert body["refresh_token"]
    assert body["id_token"]
    assert body["client_info"]
    listed = client.get("/subscriptions", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 200
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_the_page_refuses_an_unknown_code(client: TestClient) -> None:
    answer = client.post(
        "/devicelogin", data={"user_code": "ABCDEFGHJ", "username": OWNER, "password": OWNER_PASSWORD}
    )

    assert answer.status_code == 400
    assert "not valid or has expired" in answer.text


def test_an_unknown_device_code_is_invalid_grant(client: TestClient) -> None:
    answer = _poll(client, {"device_code": "nope"})

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
