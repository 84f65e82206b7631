"""Pending sign-ins and authorization codes of the authorization-code flow with PKCE
(:mod:`berth.directory.authorization`), in the database (:mod:`berth.metadata.sign_in_codes`).

The browser's three steps (the authorize page, the sign-in POST, the client's redemption) may
each reach another worker or replica, so nothing here lives in one process. Codes are random
256-bit values, stored hashed, kept for five minutes, good for one redemption whatever its
outcome, and bound to the client, the redirect URI and the S256 challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection

from berth.metadata import sign_in_codes as rows
from berth.metadata.database import Database

CODE_SECONDS = 300
SIGN_IN_SECONDS = 900
MAX_PENDING = 10_000
# RFC 7636 §4.1: 43 to 128 unreserved characters; an S256 challenge is 43 base64url characters.
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class SignInRequest:
    """A checked authorize request, waiting for the user to sign in on the directory's page."""

    id: str
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class IssuedCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: str
    object_id: str
    issued_at: float
    expires_at: float


class CodeRejected(Exception):
    """Why a code cannot be redeemed: always ``invalid_grant`` with Entra ID's AADSTS code."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class AuthorizationCodes:
    """Pending sign-ins and issued codes, shared by every worker and replica on the database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self, client_id: str, redirect_uri: str, state: str, scope: str, challenge: str
    ) -> SignInRequest:
        request_id = secrets.token_urlsafe(32)
        now = time.time()
        row = rows.SignInRow(
            rows.REQUEST, client_id, redirect_uri, state, scope, challenge, None, now, now + SIGN_IN_SECONDS
        )
        await self._db.write(self._start, request_id, row)
        return _request(request_id, row)

    @staticmethod
    def _start(conn: Connection, request_id: str, row: rows.SignInRow) -> None:
        rows.expire(conn, row.created_at)
        if rows.count(conn, rows.REQUEST) >= MAX_PENDING:
            rows.drop_oldest(conn, rows.REQUEST)  # an abandoned sign-in page goes first
        rows.insert(conn, request_id, row)

    async def pending(self, request_id: str) -> SignInRequest | None:
        row = await self._db.read(rows.find, request_id, rows.REQUEST, time.time()) if request_id else None
        return None if row is None else _request(request_id, row)

    async def issue(self, request_id: str, object_id: str) -> tuple[SignInRequest, str] | None:
        """The code for a signed-in user; the pending request is used up."""
        if not request_id:
            return None
        return await self._db.write(self._issue, request_id, object_id, time.time())

    @staticmethod
    def _issue(
        conn: Connection, request_id: str, object_id: str, now: float
    ) -> tuple[SignInRequest, str] | None:
        entry = rows.take(conn, request_id, rows.REQUEST, now)
        if entry is None:
            return None
        code = secrets.token_urlsafe(32)
        issued = rows.SignInRow(
            rows.CODE,
            entry.client_id,
            entry.redirect_uri,
            "",
            entry.scope,
            entry.code_challenge,
            object_id,
            now,
            now + CODE_SECONDS,
        )
        rows.insert(conn, code, issued)
        return _request(request_id, entry), code

    async def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> IssuedCode:
        """The code's grant, used up whatever the outcome (a failed attempt burns the code)."""
        row = await self._db.write(rows.take, code, rows.CODE, time.time()) if code else None
        if row is None or row.object_id is None:
            raise CodeRejected(
                70008, "The provided authorization code is expired, already redeemed or not valid."
            )
        if row.client_id != client_id:
            raise CodeRejected(70000, "The authorization code was issued to another client.")
        if row.redirect_uri != redirect_uri:
            raise CodeRejected(
                50148, "The redirect_uri does not match the one the authorization code was issued for."
            )
        if not VERIFIER.match(verifier) or not hmac.compare_digest(s256(verifier), row.code_challenge):
            raise CodeRejected(501481, "The code_verifier does not match the code_challenge.")
        return IssuedCode(
            row.client_id,
            row.redirect_uri,
            row.code_challenge,
            row.scope,
            row.object_id,
            row.created_at,
            row.expires_at,
        )


def _request(request_id: str, row: rows.SignInRow) -> SignInRequest:
    return SignInRequest(
        request_id, row.client_id, row.redirect_uri, row.state, row.scope, row.code_challenge, row.expires_at
    )
