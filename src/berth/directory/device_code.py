"""The device authorization grant (RFC 8628), as Entra ID serves it to MSAL and ``az login
--use-device-code``.

1. The client posts ``client_id`` and ``scope`` to ``/<tenant>/oauth2/v2.0/devicecode`` and
   gets a ``device_code`` (secret, for polling), a short ``user_code`` and ``verification_uri``;
2. the user opens ``/devicelogin`` in a browser, types the user code, their name and password;
3. the client polls the token endpoint with ``grant_type=urn:ietf:params:oauth:grant-type:device_code``
   and gets ``authorization_pending`` until the user has signed in, then the tokens.

Pending codes live in the database for 15 minutes (:mod:`berth.metadata.device_codes`), so the
polling client and the user's browser may reach different workers or replicas. Device codes are
random 256-bit values (stored hashed); user codes are 9 letters from an alphabet without
look-alikes, good for one sign-in each.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection

from berth.metadata import device_codes as rows
from berth.metadata.database import Database

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LIFETIME_SECONDS = 900
POLL_INTERVAL_SECONDS = 1
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
_USER_CODE_LENGTH = 9
_MAX_PENDING = 10_000


@dataclass
class DeviceAuthorization:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    approved_by: str | None = None  # the object id of the user who signed in
    created_at: float = field(default_factory=time.time)


class DevicePending(Exception):
    """Why a device code cannot be exchanged (yet): the OAuth error and its AADSTS code."""

    def __init__(self, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = description


def normalise_user_code(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


class DeviceCodes:
    """Pending device authorizations, in the database (every worker and replica sees them)."""

    def __init__(self, db: Database, lifetime: float = LIFETIME_SECONDS) -> None:
        self._db = db
        self._lifetime = lifetime

    async def start(self, client_id: str, scope: str) -> DeviceAuthorization:
        return await self._db.write(self._start, client_id, scope, time.time())

    def _start(self, conn: Connection, client_id: str, scope: str, now: float) -> DeviceAuthorization:
        rows.expire(conn, now)
        if rows.count(conn) >= _MAX_PENDING:
            raise DevicePending(
                "temporarily_unavailable", 50196, "Too many pending device sign-ins; try again later."
            )
        device_code = secrets.token_urlsafe(32)
        while True:
            row = rows.DeviceRow(_new_user_code(), client_id, scope, now, now + self._lifetime, None)
            if rows.insert(conn, device_code, row):
                return _entry(device_code, row)

    async def pending(self, user_code: str) -> DeviceAuthorization | None:
        """The authorization a user code names, if it waits for a sign-in."""
        row = await self._db.read(rows.by_user_code, normalise_user_code(user_code))
        if row is None or row.approved_by is not None or row.expires_at <= time.time():
            return None
        return _entry("", row)

    async def approve(self, user_code: str, object_id: str) -> bool:
        return await self._db.write(rows.approve, normalise_user_code(user_code), object_id, time.time())

    async def redeem(self, device_code: str, client_id: str) -> DeviceAuthorization:
        """The approved authorization for ``device_code`` (once); raises :class:`DevicePending`."""
        return await self._db.write(self._redeem, device_code, client_id, time.time())

    @staticmethod
    def _redeem(conn: Connection, device_code: str, client_id: str, now: float) -> DeviceAuthorization:
        row = rows.by_device_code(conn, device_code) if device_code else None
        if row is None or (client_id and client_id != row.client_id):
            raise DevicePending("invalid_grant", 70000, "The device code is not valid.")
        if row.expires_at <= now:
            rows.remove(conn, device_code)
            raise DevicePending("expired_token", 70020, "The device code has expired. Sign in again.")
        if row.approved_by is None:
            raise DevicePending(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        if not rows.remove(conn, device_code, approved_only=True):
            raise DevicePending("invalid_grant", 70000, "The device code is not valid.")
        return _entry(device_code, row)


def _new_user_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_USER_CODE_LENGTH))


def _entry(device_code: str, row: rows.DeviceRow) -> DeviceAuthorization:
    return DeviceAuthorization(
        device_code=device_code,
        user_code=row.user_code,
        client_id=row.client_id,
        scope=row.scope,
        expires_at=row.expires_at,
        approved_by=row.approved_by,
        created_at=row.created_at,
    )
