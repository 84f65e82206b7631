"""Portal sessions: the sign-in's state and PKCE, the cookies' flags, CSRF, and that every change
is refused to a Reader and to an AcrPull user by the server itself (not only by hiding buttons)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from berth.app import BerthApp, build_app
from berth.config import load_settings
from tests.api.management.arm import OWNER_PASSWORD, TestClient
from tests.support.access_setup import AccessSetup

USER_PASSWORD = "user-password-for-tests"


def sign_in(
    client: TestClient, username: str = "admin@localhost", password: str = OWNER_PASSWORD
) -> httpx.Response:
    """The whole browser dance; returns the callback's answer (which sets the session cookie)."""
    start = client.get("/portal/signin?next=/portal/r/default", follow_redirects=False)
    assert start.status_code == 303
    page = client.get(start.headers["location"])
    request_id = re.search(r'name="request" value="([^"]+)"', page.text)
    assert request_id is not None, page.text
    signed = client.post(
        urlsplit(start.headers["location"]).path,
        data={"request": request_id.group(1), "username": username, "password": password},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    answer: httpx.Response = client.get(signed.headers["location"], follow_redirects=False)
    return answer


def csrf_of(client: TestClient) -> str:
    page = client.get("/portal/r/default/diagnose")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def test_unsigned_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    answer = client.get("/portal/r/default/events", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/signin?next=%2Fportal%2Fr%2Fdefault%2Fevents"


def test_the_session_cookie_is_httponly_samesite_and_scoped(client: TestClient) -> None:
    answer = sign_in(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/r/default"
    for name in ("berth_portal", "berth_portal_refresh"):
        cookie = set_cookies(answer)[name].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/portal" in cookie
        assert "secure" not in cookie  # plain HTTP here; see the HTTPS test
    assert client.get("/portal/r/default").status_code == 200


def test_the_session_cookie_is_secure_over_https(app: BerthApp) -> None:
    with TestClient(app, base_url="https://localhost:5000") as secure:
        answer = sign_in(secure)
        assert "secure" in set_cookies(answer)["berth_portal"].lower()
        assert "secure" in set_cookies(answer)["berth_portal_refresh"].lower()


def test_a_lying_forwarded_proto_from_an_untrusted_peer_changes_nothing(client: TestClient) -> None:
    """Only a peer in trusted_proxies may say the browser used HTTPS: from anyone else the header
    is ignored, so the cookies are not Secure (the browser would drop them over plain HTTP) and
    the redirect URI keeps the scheme the connection really has."""
    client.headers["X-Forwarded-Proto"] = "https"
    start = client.get("/portal/signin?next=/portal/r/default", follow_redirects=False)
    assert "secure" not in set_cookies(start)["berth_portal_signin"].lower()
    assert "redirect_uri=http%3A%2F%2F" in start.headers["location"]
    answer = sign_in(client)
    for name in ("berth_portal", "berth_portal_refresh"):
        assert "secure" not in set_cookies(answer)[name].lower()
    assert client.get("/portal/r/default").status_code == 200


@pytest.mark.parametrize(("peer", "secure"), [("10.1.2.3", True), ("192.0.2.7", False)])
def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(
    tmp_path: Path, peer: str, secure: bool
) -> None:
    settings = load_settings(
        overrides={"data_dir": tmp_path, "trusted_proxies": ["10.0.0.0/8"]}, environ={}, detect_tls=False
    )
    with TestClient(build_app(settings), base_url="http://localhost:5000", client=(peer, 40000)) as behind:
        start = behind.get(
            "/portal/signin?next=/portal/r/default",
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        assert ("secure" in set_cookies(start)["berth_portal_signin"].lower()) is secure
        scheme = "https" if secure else "http"
        assert f"redirect_uri={scheme}%3A%2F%2F" in start.headers["location"]


def test_a_callback_with_another_state_is_refused(client: TestClient) -> None:
    start = client.get("/portal/signin", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = client.get(f"/portal/auth/callback?code=anything&state={state}x", follow_redirects=False)
    assert answer.status_code == 400
    assert "does not match" in answer.text
    assert "berth_portal=" not in answer.headers.get("set-cookie", "").replace("berth_portal_signin", "")


def test_a_callback_without_a_started_sign_in_is_refused(client: TestClient) -> None:
    answer = client.get("/portal/auth/callback?code=x&state=y", follow_redirects=False)
    assert answer.status_code == 400


def test_changes_need_the_csrf_token_of_the_session(client: TestClient, app: BerthApp) -> None:
    sign_in(client)
    token = csrf_of(client)
    refused = client.post("/portal/r/default/admin", data={"enabled": "true"})
    assert refused.status_code == 403
    assert "InvalidCsrfToken" in refused.text
    forged = client.post("/portal/r/default/admin", data={"enabled": "true", "csrf": "0" * 64})
    assert forged.status_code == 403
    other_site = client.post(
        "/portal/r/default/admin",
        data={"enabled": "true", "csrf": token},
        headers={"Origin": "http://evil.example"},
    )
    assert other_site.status_code == 403
    assert AccessSetup.for_app(app).registry().admin_enabled is False
    accepted = client.post("/portal/r/default/admin", data={"enabled": "true", "csrf": token})
    assert accepted.status_code == 200
    assert "copy the password now" in accepted.text


def test_sign_out_clears_the_session(client: TestClient) -> None:
    sign_in(client)
    answer = client.post("/portal/signout", data={"csrf": csrf_of(client)})
    assert answer.status_code == 200
    cleared = set_cookies(answer)
    assert cleared["berth_portal"].startswith('berth_portal=""')
    assert cleared["berth_portal_refresh"].startswith('berth_portal_refresh=""')
    assert client.get("/portal/r/default", follow_redirects=False).status_code == 303


CHANGES = (
    ("/portal/registries", {"name": "readermade", "resource_group": "default"}),
    ("/portal/r/default/delete", {"confirm": "default"}),
    ("/portal/r/default/admin", {"enabled": "true"}),
    ("/portal/r/default/admin/regenerate", {"password_name": "password"}),
    (
        "/portal/r/default/scope-maps",
        {"name": "reader-map", "rows": "1", "repo_0": "x", "action_0": "content/read"},
    ),
    ("/portal/r/default/scope-maps/delete", {"scope_map": "some-map"}),
    ("/portal/r/default/tokens", {"name": "reader-token", "scope_map": "_repositories_pull"}),
    ("/portal/r/default/tokens/password", {"token": "some-token", "password_name": "password2"}),
    ("/portal/r/default/tokens/delete", {"token": "some-token"}),
    ("/portal/r/default/network", {"default_action": "Deny"}),
    ("/portal/r/default/iam", {"role": "Owner", "assignee": "admin@localhost"}),
    ("/portal/r/default/iam/remove", {"assignment": "00000000-0000-0000-0000-000000000000"}),
    ("/portal/r/default/repository/delete", {"repo": "a/b", "confirm": "a/b"}),
    ("/portal/r/default/tag/delete", {"repo": "a/b", "tag": "v1"}),
    ("/portal/r/default/manifest/delete", {"repo": "a/b", "digest": "sha256:" + "0" * 64}),
    (
        "/portal/r/default/locks",
        {"repo": "portal/app", "tag": "v1", "attribute": "writeEnabled", "value": "false"},
    ),
    ("/portal/r/default/tokens/status", {"token": "portal-denied", "enabled": "false"}),
)


@pytest.mark.parametrize("role", ["Reader", "AcrPull"])
def test_every_change_is_refused_to_readers_and_pullers(client: TestClient, app: BerthApp, role: str) -> None:
    setup = AccessSetup.for_app(app)
    setup.user(f"{role.lower()}@localhost", password=USER_PASSWORD, role=role)
    sign_in(client, f"{role.lower()}@localhost", USER_PASSWORD)
    token = csrf_of(client)
    for path, form in CHANGES:
        answer = client.post(path, data={**form, "csrf": token}, follow_redirects=False)
        assert answer.status_code == 403, (
            f"{path} answered {answer.status_code} to {role}: {answer.text[:300]}"
        )
    assert setup.registry().admin_enabled is False
    assert setup.registry().network_default_action == "Allow"


JUNK = ("", "\x00", "a" * 5000, "../../etc/passwd", "sha256:zz", "99999999999", "-1", "nan", "<script>")


def test_junk_in_every_change_is_a_clear_answer_not_a_5xx(client: TestClient) -> None:
    sign_in(client)
    token = csrf_of(client)
    for junk, (path, form) in ((junk, change) for junk in JUNK for change in CHANGES):
        if path.endswith("/delete") and path.count("/") == 4:
            continue  # deleting the default registry is refused anyway; keep the registry for the rest
        fields = dict.fromkeys([*form, "rows", "expiry_days", "password_name", "sku", "ip_rules"], junk)
        answer = client.post(path, data={**fields, "csrf": token}, follow_redirects=False)
        assert answer.status_code < 500, (
            f"{path} with {junk[:20]!r}: {answer.status_code} {answer.text[:300]}"
        )
        assert "<script>" not in answer.text.replace("<script src=", "")


def test_a_form_too_large_is_refused_clearly(client: TestClient) -> None:
    sign_in(client)
    answer = client.post("/portal/r/default/network", content=b"a=" + b"x" * 70_000)
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/portal/r/default/repositories?q=a%00b",
        "/portal/r/default/repository?repo=a%00b",
        "/portal/r/default/manifest?repo=a&digest=sha256:%00",
        "/portal/r/default/events?identity=%00&since=nonsense&kind=%00",
        "/portal/r/nothere%00",
    ],
)
def test_nul_characters_are_refused_clearly(client: TestClient, path: str) -> None:
    sign_in(client)
    answer = client.get(path)
    assert answer.status_code == 400
    assert "NUL" in answer.text


def test_a_nul_in_a_form_is_refused_clearly(client: TestClient) -> None:
    sign_in(client)
    answer = client.post(
        "/portal/r/default/iam", data={"csrf": csrf_of(client), "role": "Reader", "assignee": "a\x00@b"}
    )
    assert answer.status_code == 400


def test_a_user_without_a_role_sees_nothing(client: TestClient, app: BerthApp) -> None:
    AccessSetup.for_app(app).user("nobody@localhost", password=USER_PASSWORD, role=None)
    sign_in(client, "nobody@localhost", USER_PASSWORD)
    listing = client.get("/portal/")
    assert "You have no role on any registry yet" in listing.text
    assert 'href="/portal/r/default"' not in listing.text
    assert client.get("/portal/r/default").status_code == 404
    assert client.get("/portal/r/default/repositories").status_code == 404


def test_a_contributor_changes_the_registry_but_not_its_role_assignments(
    client: TestClient, app: BerthApp
) -> None:
    setup = AccessSetup.for_app(app)
    user = setup.user("contributor@localhost", password=USER_PASSWORD, role=None)
    setup.assign(user.object_id, "Contributor", setup.tenancy.resource_group_scope("default"))
    sign_in(client, "contributor@localhost", USER_PASSWORD)
    token = csrf_of(client)
    created = client.post(
        "/portal/registries", data={"csrf": token, "name": "contribmade", "resource_group": "default"}
    )
    assert created.status_code == 200
    assert "contribmade" in created.text
    page = client.get("/portal/r/contribmade/iam").text
    assert "Add a role assignment" not in page
    refused = client.post(
        "/portal/r/contribmade/iam",
        data={"csrf": token, "role": "Owner", "assignee": "contributor@localhost"},
    )
    assert refused.status_code == 403
    assert "roleAssignments/write" in refused.text
    elsewhere = client.post(
        "/portal/registries", data={"csrf": token, "name": "otherrg", "resource_group": "other"}
    )
    assert elsewhere.status_code == 403  # Contributor on resource group 'default' only


def replace_access_token(client: TestClient, value: str | None) -> None:
    """What the browser holds once the hour-long access cookie expired (or was tampered with)."""
    client.cookies.delete("berth_portal")
    if value is not None:
        client.cookies.set("berth_portal", value, domain="localhost", path="/portal")


@pytest.mark.parametrize("access", [None, "not-a-token"])
def test_an_expired_access_token_is_renewed_with_the_refresh_cookie(
    client: TestClient, access: str | None
) -> None:
    sign_in(client)
    token = csrf_of(client)
    replace_access_token(client, access)
    page = client.get("/portal/r/default", follow_redirects=False)
    assert page.status_code == 200
    assert "berth_portal=ey" in page.headers["set-cookie"]  # a new access token
    # The CSRF token of the session stays the same across the renewal.
    assert csrf_of(client) == token


def test_a_disabled_user_is_not_renewed(client: TestClient, app: BerthApp) -> None:
    setup = AccessSetup.for_app(app)
    user = setup.user("leaver@localhost", password=USER_PASSWORD, role="Reader")
    sign_in(client, "leaver@localhost", USER_PASSWORD)
    setup.set_enabled(user.object_id, False)
    assert client.get("/portal/r/default", follow_redirects=False).status_code == 303
    replace_access_token(client, None)
    assert client.get("/portal/r/default", follow_redirects=False).status_code == 303


def test_a_refresh_token_of_another_client_is_not_a_portal_session(client: TestClient) -> None:
    refresh = client.post(
        "/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": "admin@localhost",
            "password": OWNER_PASSWORD,
            "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "scope": "https://management.azure.com/.default",
        },
    ).json()["refresh_token"]
    client.cookies.set("berth_portal_refresh", refresh, domain="localhost", path="/portal")
    assert client.get("/portal/r/default", follow_redirects=False).status_code == 303


def test_the_portal_can_be_turned_off(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path, "portal": False}, environ={}, detect_tls=False)
    with TestClient(build_app(settings), base_url="http://localhost:5000") as off:
        answer = off.get("/portal/", follow_redirects=False)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NotFound"
