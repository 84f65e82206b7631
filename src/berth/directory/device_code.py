"""The device authorization grant (RFC 8628), as Entra ID serves it to MSAL and ``az login
--use-device-code``.

1. The client posts ``client_id`` and ``scope`` to ``/<tenant>/oauth2/v2.0/devicecode`` and
   gets a ``device_code`` (secret, for polling), a short ``user_code`` and ``verification_uri``;
2. the user opens ``/devicelogin`` in a browser, types the user code, their name and password;
3. the client polls the token endpoint with ``grant_type=urn:ietf:params:oauth:grant-type:device_code``
   and gets ``authorization_pending`` until the user has signed in, then the tokens.

Pending codes live in this process's memory for 15 minutes (several replicas need the polling
client and the user's browser to reach the same one). Device codes are random 256-bit values;
user codes are 9 letters from an alphabet without look-alikes, good for one sign-in each.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

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
    redeemed: bool = False
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
    """Pending device authorizations of this process."""

    def __init__(self, lifetime: float = LIFETIME_SECONDS) -> None:
        self._lifetime = lifetime
        self._by_device: dict[str, DeviceAuthorization] = {}
        self._by_user: dict[str, DeviceAuthorization] = {}
        self._lock = threading.Lock()

    def start(self, client_id: str, scope: str) -> DeviceAuthorization:
        with self._lock:
            self._expire(time.time())
            if len(self._by_device) >= _MAX_PENDING:
                raise DevicePending(
                    "temporarily_unavailable", 50196, "Too many pending device sign-ins; try again later."
                )
            user_code = self._new_user_code()
            entry = DeviceAuthorization(
                device_code=secrets.token_urlsafe(32),
                user_code=user_code,
                client_id=client_id,
                scope=scope,
                expires_at=time.time() + self._lifetime,
            )
            self._by_device[entry.device_code] = entry
            self._by_user[user_code] = entry
            return entry

    def pending(self, user_code: str) -> DeviceAuthorization | None:
        """The authorization a user code names, if it waits for a sign-in."""
        with self._lock:
            self._expire(time.time())
            entry = self._by_user.get(normalise_user_code(user_code))
            return entry if entry is not None and entry.approved_by is None else None

    def approve(self, user_code: str, object_id: str) -> bool:
        with self._lock:
            entry = self._by_user.get(normalise_user_code(user_code))
            if entry is None or entry.approved_by is not None or entry.expires_at <= time.time():
                return False
            entry.approved_by = object_id
            return True

    def redeem(self, device_code: str, client_id: str) -> DeviceAuthorization:
        """The approved authorization for ``device_code`` (once); raises :class:`DevicePending`."""
        with self._lock:
            entry = self._by_device.get(device_code)
            if entry is None or entry.redeemed or (client_id and client_id != entry.client_id):
                raise DevicePending("invalid_grant", 70000, "The device code is not valid.")
            if entry.expires_at <= time.time():
                self._drop(entry)
                raise DevicePending("expired_token", 70020, "The device code has expired. Sign in again.")
            if entry.approved_by is None:
                raise DevicePending(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            entry.redeemed = True
            self._drop(entry)
            return entry

    def _new_user_code(self) -> str:
        while True:
            code = "".join(secrets.choice(_ALPHABET) for _ in range(_USER_CODE_LENGTH))
            if code not in self._by_user:
                return code

    def _drop(self, entry: DeviceAuthorization) -> None:
        self._by_device.pop(entry.device_code, None)
        self._by_user.pop(entry.user_code, None)

    def _expire(self, now: float) -> None:
        for entry in [e for e in self._by_device.values() if e.expires_at <= now]:
            self._drop(entry)
