"""The Access page's changes as an owner makes them: network rules, a token's status, the admin
user's passwords (shown once), and the scope-map grid."""

from __future__ import annotations

import re

from berth.app import BerthApp
from tests.api.management.arm import TestClient
from tests.api.portal.test_session import csrf_of, sign_in
from tests.support.access_setup import AccessSetup


def test_network_rules_and_anonymous_pull(client: TestClient, app: BerthApp) -> None:
    sign_in(client)
    answer = client.post(
        "/portal/r/default/network",
        data={
            "csrf": csrf_of(client),
            "public_network": "on",
            "anonymous_pull": "on",
            "default_action": "Deny",
            "ip_rules": "10.0.0.0/8\n192.168.1.7\n",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    record = AccessSetup.for_app(app).registry()
    assert record.network_default_action == "Deny"
    assert record.anonymous_pull_enabled is True
    assert [rule.value for rule in record.ip_rules] == ["10.0.0.0/8", "192.168.1.7"]
    refused = client.post(
        "/portal/r/default/network",
        data={"csrf": csrf_of(client), "default_action": "Deny", "ip_rules": "not-an-address"},
    )
    assert refused.status_code == 400
    assert "not an IPv4 address" in refused.text


def test_a_token_is_disabled_and_enabled(client: TestClient, app: BerthApp) -> None:
    AccessSetup.for_app(app).token("page-token", "_repositories_pull")
    sign_in(client)
    client.post(
        "/portal/r/default/tokens/status",
        data={"csrf": csrf_of(client), "token": "page-token", "enabled": "false"},
    )
    assert re.search(
        r"<td>page-token</td><td>_repositories_pull</td><td>disabled</td>",
        client.get("/portal/r/default/access").text,
    )
    client.post(
        "/portal/r/default/tokens/status",
        data={"csrf": csrf_of(client), "token": "page-token", "enabled": "true"},
    )
    assert (
        "<td>page-token</td><td>_repositories_pull</td><td>enabled</td>"
        in client.get("/portal/r/default/access").text
    )


def test_admin_passwords_are_shown_once(client: TestClient) -> None:
    sign_in(client)
    enabled = client.post("/portal/r/default/admin", data={"csrf": csrf_of(client), "enabled": "true"})
    shown = re.findall(r'<code class="wrap password">([^<]+)</code>', enabled.text)
    assert len(shown) == 2  # password and password2, both new
    regenerated = client.post(
        "/portal/r/default/admin/regenerate", data={"csrf": csrf_of(client), "password_name": "password2"}
    )
    again = re.findall(r'<code class="wrap password">([^<]+)</code>', regenerated.text)
    assert len(again) == 1
    assert again[0] not in shown
    later = client.get("/portal/r/default/access").text
    assert not any(value in later for value in [*shown, *again])


def test_the_scope_map_grid_becomes_actions(client: TestClient, app: BerthApp) -> None:
    sign_in(client)
    answer = client.post(
        "/portal/r/default/scope-maps",
        data={
            "csrf": csrf_of(client),
            "name": "grid-map",
            "rows": "3",
            "repo_0": "team/app",
            "action_0": ["content/read", "content/write"],
            "repo_1": "",
            "action_1": "content/read",  # a row without a repository is ignored
            "repo_2": "team/*",
            "action_2": ["metadata/read", "bogus/action"],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get("/portal/r/default/access").text
    granted = ("team/app/content/read", "team/app/content/write", "team/*/metadata/read")
    assert " ".join(f"repositories/{action}" for action in granted) in page
