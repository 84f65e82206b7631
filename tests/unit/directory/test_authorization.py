"""Authorization codes with PKCE: bound to client, redirect URI and challenge; used once."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from berth.directory import authorization
from berth.directory.authorization import (
    PORTAL_CLIENT_ID,
    AuthorizationCodes,
    AuthorizationEndpoints,
    CodeRejected,
    s256,
)

VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghijklmn"  # 48 unreserved characters
REDIRECT = "http://localhost:5000/portal/auth/callback"


def issued(codes: AuthorizationCodes, verifier: str = VERIFIER) -> str:
    pending = codes.start(PORTAL_CLIENT_ID, REDIRECT, "state-1", "openid", s256(verifier))
    result = codes.issue(pending.id, "object-id")
    assert result is not None
    return result[1]


def test_s256_is_base64url_of_sha256_without_padding() -> None:
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert s256(VERIFIER) == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(s256(VERIFIER)) == 43


def test_a_code_redeems_once_with_its_verifier() -> None:
    codes = AuthorizationCodes()
    code = issued(codes)
    grant = codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)
    assert grant.object_id == "object-id"
    with pytest.raises(CodeRejected) as again:
        codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)
    assert again.value.code == 70008


@pytest.mark.parametrize(
    ("client_id", "redirect", "verifier", "aadsts"),
    [
        (PORTAL_CLIENT_ID, REDIRECT, "w" * 48, 501481),  # another verifier
        (PORTAL_CLIENT_ID, REDIRECT, "short", 501481),  # not a verifier at all
        ("someone-else", REDIRECT, VERIFIER, 70000),
        (PORTAL_CLIENT_ID, "http://evil.example/portal/auth/callback", VERIFIER, 50148),
    ],
)
def test_a_code_is_refused_to_anything_else_and_burnt(
    client_id: str, redirect: str, verifier: str, aadsts: int
) -> None:
    codes = AuthorizationCodes()
    code = issued(codes)
    with pytest.raises(CodeRejected) as refused:
        codes.redeem(code, client_id, redirect, verifier)
    assert refused.value.code == aadsts
    with pytest.raises(CodeRejected):  # a failed attempt used it up: no guessing the verifier
        codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)


def test_a_pending_sign_in_gives_one_code() -> None:
    codes = AuthorizationCodes()
    pending = codes.start(PORTAL_CLIENT_ID, REDIRECT, "s", "", s256(VERIFIER))
    assert codes.issue(pending.id, "a") is not None
    assert codes.issue(pending.id, "a") is None
    assert codes.pending(pending.id) is None


def test_codes_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = AuthorizationCodes()
    code = issued(codes)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + authorization.CODE_SECONDS + 1)
    with pytest.raises(CodeRejected):
        codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)


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
