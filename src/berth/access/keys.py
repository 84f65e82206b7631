"""The signing keyring: RS256 keys in the metadata store, published as JWKS, rotatable.

One key signs; retired keys keep verifying until every token they signed has expired. Key
ids follow the libtrust format ACR uses (12 groups of 4 base32 characters).

Several processes share the keys through the database. A rotation is published on the
invalidation bus, so the other processes reload before their next signature (otherwise
within :data:`RELOAD_SECONDS`); a token signed by a key a process has not loaded yet makes it
reload at once (at most once a second), so a fresh key verifies everywhere immediately.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from berth.invalidation import SIGNING_KEYS, InvalidationBus
from berth.metadata import signing_keys as key_rows
from berth.metadata.database import Database

RELOAD_SECONDS = 30.0
UNKNOWN_KID_RELOAD_SECONDS = 1.0
# The longest lifetime of anything berth signs (directory refresh tokens), so a retired key
# keeps verifying until its last token expired.
MAX_TOKEN_LIFETIME = 14 * 24 * 3600


def libtrust_kid(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, 48, 4))


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    retired_at: float | None
    pem: str = field(default="", repr=False)  # what it was parsed from (a reload reuses it if unchanged)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return jwk


class InvalidToken(Exception):
    """A token whose signature, key id or encoding is not acceptable."""


class Keyring:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._keys: dict[str, LoadedKey] = {}
        self._active: LoadedKey | None = None
        self._loaded_at = 0.0
        self._bus: InvalidationBus | None = None

    def attach(self, bus: InvalidationBus) -> None:
        """Publish rotations on ``bus``; reload when another process rotates."""
        self._bus = bus
        bus.subscribe(SIGNING_KEYS, self._stale)

    def _stale(self, _kid: str | None) -> None:
        self._loaded_at = -RELOAD_SECONDS  # the next use reloads

    def load(self) -> None:
        """Read the keys, creating the first one on a new database."""
        records = self._db.read_sync(key_rows.list_all)
        if not any(r.retired_at is None for r in records):
            self.rotate()
            return
        keys: dict[str, LoadedKey] = {}
        for record in records:
            known = self._keys.get(record.kid)
            if known is not None and known.pem == record.private_pem:
                # Parsing a PEM RSA key validates it (about 30 ms of CPU, on the event loop for
                # a periodic reload): a key already loaded from the same PEM is reused.
                private = known.private_key
            else:
                loaded = serialization.load_pem_private_key(record.private_pem.encode(), password=None)
                assert isinstance(loaded, rsa.RSAPrivateKey)
                private = loaded
            keys[record.kid] = LoadedKey(record.kid, private, record.retired_at, record.private_pem)
        self._keys = keys
        active = [k for k in keys.values() if k.retired_at is None]
        self._active = active[-1]
        self._loaded_at = time.monotonic()

    def rotate(self) -> str:
        """Create a new signing key; older keys retire but keep verifying. Returns the new kid."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        kid = libtrust_kid(private.public_key())
        self._db.write_sync(key_rows.add, kid, pem, retire_others=True)
        self._db.write_sync(key_rows.prune, time.time() - MAX_TOKEN_LIFETIME)
        self.load()
        if self._bus is not None:
            self._bus.publish(SIGNING_KEYS, kid)
        return kid

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            self.load()

    @property
    def active_kid(self) -> str:
        """The key that signs new tokens (reloaded as :meth:`sign` would)."""
        self._fresh()
        assert self._active is not None
        return self._active.kid

    def sign(self, claims: dict[str, Any]) -> str:
        self._fresh()
        assert self._active is not None
        return jwt.encode(
            claims, self._active.private_key, algorithm="RS256", headers={"kid": self._active.kid}
        )

    def public_key_for(self, token: str) -> rsa.RSAPublicKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"not a JWT: {exc}") from None
        if header.get("alg") != "RS256":
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if (
            key is None
            and isinstance(kid, str)
            and time.monotonic() - self._loaded_at > UNKNOWN_KID_RELOAD_SECONDS
        ):
            self.load()  # another replica may have rotated (at most once a second, so junk kids cost nothing)
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return key.private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        self._fresh()
        return {"keys": [key.public_jwk() for key in self._keys.values()]}
