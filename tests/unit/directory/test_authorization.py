"""Which redirect URIs the authorization-code flow sends codes to: a registered client's, on the
host the browser addressed (the codes themselves: test_authorization_codes.py)."""

from __future__ import annotations

import pytest

from berth.directory.authorization import PORTAL_CLIENT_ID, AuthorizationEndpoints

REDIRECT = "http://localhost:5000/portal/auth/callback"


@pytest.mark.parametrize(
    ("client_id", "redirect", "host", "allowed"),
    [
        (PORTAL_CLIENT_ID, REDIRECT, "localhost:5000", True),
        (PORTAL_CLIENT_ID, "https://localhost:5000/portal/auth/callback", "LOCALHOST:5000", True),
        (PORTAL_CLIENT_ID, REDIRECT, "other:5000", False),  # never to another host
        (PORTAL_CLIENT_ID, "http://localhost:5000/elsewhere", "localhost:5000", False),
        (PORTAL_CLIENT_ID, REDIRECT + "?x=1", "localhost:5000", False),
        (PORTAL_CLIENT_ID, "javascript://localhost:5000/portal/auth/callback", "localhost:5000", False),
        ("unregistered", REDIRECT, "localhost:5000", False),
    ],
)
def test_only_registered_redirects_on_the_same_host(
    client_id: str, redirect: str, host: str, allowed: bool
) -> None:
    assert AuthorizationEndpoints.redirect_allowed(client_id, redirect, host) is allowed
