"""``/acr/v1/_diagnostics/``: what the holder of a credential, or of a rejected request's
correlation id, may learn — and what stays hidden (unknown identity vs wrong secret)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.api.access.wire import TestClient, basic, bearer, token_get
from tests.support.access_setup import AccessSetup

DENIED_IP = "198.51.100.7"


def _rejected(client: TestClient, correlation_id: str) -> dict[str, Any]:
    """The explanation of a rejected request (events are written a moment after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        response = client.get(f"/acr/v1/_diagnostics/requests/{correlation_id}")
        if response.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _correlation(response: httpx.Response) -> str:
    return response.headers["x-ms-correlation-request-id"]


def test_the_holder_of_a_token_learns_what_it_may_do(client: TestClient, setup: AccessSetup) -> None:
    setup.scope_map("ci-map", ["repositories/app/content/read", "repositories/app/metadata/read"])
    token = setup.token("ci", "ci-map")
    answer = client.get("/acr/v1/_diagnostics/identity", headers=basic("ci", token.password1))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "identity": "ci",
        "identityKind": "token",
        "scopeMap": "ci-map",
        "registryActions": [],
        "catalog": False,
        "repositories": [{"repository": "app", "actions": ["metadata_read", "pull"]}],
    }
    access = token_get(client, "ci", token.password1, "repository:app:pull").json()["access_token"]
    with_bearer = client.get("/acr/v1/_diagnostics/identity", headers=bearer(access))
    assert with_bearer.json()["scopeMap"] == "ci-map"
    assert client.get("/acr/v1/_diagnostics/identity").status_code == 401  # credentials needed


def test_unknown_identity_and_wrong_secret_stay_one_answer(client: TestClient, setup: AccessSetup) -> None:
    setup.scope_map("ci-map", ["repositories/app/content/read"])
    token = setup.token("ci", "ci-map")
    wrong = token_get(client, "ci", "not-the-password", "repository:app:pull")
    unknown = token_get(client, "nobody-here", "whatever", "repository:app:pull")
    assert wrong.status_code == unknown.status_code == 401
    told = [_rejected(client, _correlation(r)) for r in (wrong, unknown)]
    for document in told:
        assert document["reason"] == "credentials_rejected"
        assert set(document) == {"correlationId", "time", "status", "clientIp", "reason"}
    # An expired password is told: the secret was right, so nothing is given away.
    setup.set_token_password_expiry(token, "password1", time.time() - 60)
    expired = token_get(client, "ci", token.password1, "repository:app:pull")
    document = _rejected(client, _correlation(expired))
    assert (document["reason"], document["identityKind"]) == ("secret_expired", "token")
    assert "the password1 of token 'ci' expired on" in document["detail"]


def test_a_refused_client_learns_why_past_the_network_rules(
    client_from: Callable[[str], TestClient], setup: AccessSetup
) -> None:
    refused = client_from(DENIED_IP)
    setup.set_network_rules(public=False)
    answer = refused.get("/v2/")
    assert answer.status_code == 403
    assert _rejected(refused, _correlation(answer))["reason"] == "public_network_disabled"
    setup.set_network_rules(default_action="Deny", allow=("203.0.113.0/24",))
    answer = refused.get("/v2/")
    document = _rejected(refused, _correlation(answer))
    assert (document["reason"], document["clientIp"]) == ("ip_denied", DENIED_IP)
    # Another client holding the correlation id learns nothing: only the refused client may ask.
    elsewhere = client_from("203.0.113.99").get(f"/acr/v1/_diagnostics/requests/{_correlation(answer)}")
    assert elsewhere.status_code == 404
    # The firewall still holds for everything else on the diagnostics path.
    assert refused.get("/acr/v1/_diagnostics/identity").status_code == 403


def test_own_events_only(client: TestClient, setup: AccessSetup, admin: tuple[str, str]) -> None:
    setup.scope_map("ci-map", ["repositories/app/content/read"])
    token = setup.token("ci", "ci-map")
    pushed = token_get(client, "ci", token.password1, "repository:app:push")  # not in the scope map
    assert pushed.status_code == 200  # granted nothing: the token endpoint answers with fewer actions
    token_get(client, *admin, "repository:app:pull")
    deadline = time.monotonic() + 10
    while True:
        own = client.get("/acr/v1/_diagnostics/events", headers=basic("ci", token.password1)).json()
        if own["events"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert own["identity"] == "ci"
    assert own["events"], "the token's own login events"
    assert {e["Identity"] for e in own["events"]} == {"ci"}
