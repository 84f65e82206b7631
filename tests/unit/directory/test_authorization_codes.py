"""Authorization codes with PKCE: bound to client, redirect URI and challenge; used once; in the
database, so two stores on one database (two workers or replicas) see the same sign-ins."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator

import anyio
import pytest
from sqlalchemy import select

from berth.directory import authorization_codes
from berth.directory.authorization import PORTAL_CLIENT_ID
from berth.directory.authorization_codes import AuthorizationCodes, CodeRejected, s256
from berth.metadata import sign_in_codes as rows
from berth.metadata.database import Database

VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghijklmn"  # 48 unreserved characters
REDIRECT = "http://localhost:5000/portal/auth/callback"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


async def issued(codes: AuthorizationCodes, verifier: str = VERIFIER) -> str:
    pending = await codes.start(PORTAL_CLIENT_ID, REDIRECT, "state-1", "openid", s256(verifier))
    result = await codes.issue(pending.id, "object-id")
    assert result is not None
    return result[1]


def test_s256_is_base64url_of_sha256_without_padding() -> None:
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert s256(VERIFIER) == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(s256(VERIFIER)) == 43


def test_each_step_may_reach_another_worker_and_a_code_redeems_once(db: Database) -> None:
    async def scenario() -> None:
        page, form, token = AuthorizationCodes(db), AuthorizationCodes(db), AuthorizationCodes(db)
        pending = await page.start(PORTAL_CLIENT_ID, REDIRECT, "state-1", "openid", s256(VERIFIER))
        waiting = await form.pending(pending.id)
        assert waiting is not None
        assert (waiting.state, waiting.redirect_uri) == ("state-1", REDIRECT)
        result = await form.issue(pending.id, "object-id")
        assert result is not None
        grant = await token.redeem(result[1], PORTAL_CLIENT_ID, REDIRECT, VERIFIER)
        assert (grant.object_id, grant.scope) == ("object-id", "openid")
        with pytest.raises(CodeRejected) as again:
            await page.redeem(result[1], PORTAL_CLIENT_ID, REDIRECT, VERIFIER)
        assert again.value.code == 70008

    anyio.run(scenario)


def test_only_hashes_are_stored(db: Database) -> None:
    async def scenario() -> tuple[str, str]:
        codes = AuthorizationCodes(db)
        pending = await codes.start(PORTAL_CLIENT_ID, REDIRECT, "s", "", s256(VERIFIER))
        result = await codes.issue(pending.id, "object-id")
        assert result is not None
        return pending.id, result[1]

    request_id, code = anyio.run(scenario)
    with db.engine.connect() as conn:
        stored = set(conn.execute(select(rows.sign_in_codes.c.secret_hash)).scalars())
    assert stored == {rows.hash_secret(code)}  # the used-up request is gone; the code is hashed
    assert request_id not in stored
    assert code not in stored


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
    db: Database, client_id: str, redirect: str, verifier: str, aadsts: int
) -> None:
    async def scenario() -> None:
        codes = AuthorizationCodes(db)
        code = await issued(codes)
        with pytest.raises(CodeRejected) as refused:
            await codes.redeem(code, client_id, redirect, verifier)
        assert refused.value.code == aadsts
        with pytest.raises(CodeRejected):  # a failed attempt used it up: no guessing the verifier
            await codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)

    anyio.run(scenario)


def test_a_pending_sign_in_gives_one_code(db: Database) -> None:
    async def scenario() -> None:
        codes = AuthorizationCodes(db)
        pending = await codes.start(PORTAL_CLIENT_ID, REDIRECT, "s", "", s256(VERIFIER))
        assert await codes.issue(pending.id, "a") is not None
        assert await codes.issue(pending.id, "a") is None
        assert await codes.pending(pending.id) is None
        assert await codes.pending("") is None
        assert await codes.issue("", "a") is None

    anyio.run(scenario)


def test_codes_expire(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        codes = AuthorizationCodes(db)
        code = await issued(codes)
        now = time.time()
        monkeypatch.setattr(time, "time", lambda: now + authorization_codes.CODE_SECONDS + 1)
        with pytest.raises(CodeRejected):
            await codes.redeem(code, PORTAL_CLIENT_ID, REDIRECT, VERIFIER)

    anyio.run(scenario)


def test_abandoned_sign_ins_are_bounded(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authorization_codes, "MAX_PENDING", 3)

    async def scenario() -> list[str]:
        codes = AuthorizationCodes(db)
        started = [
            await codes.start(PORTAL_CLIENT_ID, REDIRECT, str(i), "", s256(VERIFIER)) for i in range(5)
        ]
        return [entry.id for entry in started if await codes.pending(entry.id) is not None]

    assert len(anyio.run(scenario)) == 3
