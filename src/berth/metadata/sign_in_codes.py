"""Pending browser sign-ins and issued authorization codes (:mod:`berth.directory.authorization_codes`)
in the database, so that the authorize page, the sign-in form's POST and the code's redemption
may reach different workers or replicas.

A row is a pending sign-in (``kind = "request"``: the hidden form field names it) or an issued
code (``kind = "code"``). Both are bearer secrets until used, so only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Float, Index, String, Table, Text, delete, func, select

from berth.metadata.schema import metadata

REQUEST = "request"
CODE = "code"

sign_in_codes = Table(
    "sign_in_codes",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("client_id", String(256), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(64), nullable=False),
    Column("object_id", String(64), nullable=True),  # the signed-in user, on a code
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_sign_in_codes_kind_expires", "kind", "expires_at"),
)


@dataclass(frozen=True)
class SignInRow:
    kind: str
    client_id: str
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    object_id: str | None
    created_at: float
    expires_at: float


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def expire(conn: Connection, now: float) -> None:
    conn.execute(delete(sign_in_codes).where(sign_in_codes.c.expires_at <= now))


def count(conn: Connection, kind: str) -> int:
    statement = select(func.count()).select_from(sign_in_codes).where(sign_in_codes.c.kind == kind)
    return int(conn.execute(statement).scalar_one())


def drop_oldest(conn: Connection, kind: str) -> None:
    oldest = (
        select(sign_in_codes.c.secret_hash)
        .where(sign_in_codes.c.kind == kind)
        .order_by(sign_in_codes.c.expires_at)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(delete(sign_in_codes).where(sign_in_codes.c.secret_hash == oldest))


def insert(conn: Connection, secret: str, row: SignInRow) -> None:
    conn.execute(
        sign_in_codes.insert().values(
            secret_hash=hash_secret(secret),
            kind=row.kind,
            client_id=row.client_id,
            redirect_uri=row.redirect_uri,
            state=row.state,
            scope=row.scope,
            code_challenge=row.code_challenge,
            object_id=row.object_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
    )


def find(conn: Connection, secret: str, kind: str, now: float) -> SignInRow | None:
    found = conn.execute(
        select(sign_in_codes).where(
            sign_in_codes.c.secret_hash == hash_secret(secret),
            sign_in_codes.c.kind == kind,
            sign_in_codes.c.expires_at > now,
        )
    ).first()
    if found is None:
        return None
    r = found._mapping
    return SignInRow(
        r["kind"],
        r["client_id"],
        r["redirect_uri"],
        r["state"],
        r["scope"],
        r["code_challenge"],
        r["object_id"],
        r["created_at"],
        r["expires_at"],
    )


def take(conn: Connection, secret: str, kind: str, now: float) -> SignInRow | None:
    """The row, deleted in the same step: of two racing takers exactly one gets it."""
    row = find(conn, secret, kind, now)
    if row is None:
        return None
    deleted = conn.execute(
        delete(sign_in_codes).where(
            sign_in_codes.c.secret_hash == hash_secret(secret), sign_in_codes.c.kind == kind
        )
    )
    return row if deleted.rowcount == 1 else None
