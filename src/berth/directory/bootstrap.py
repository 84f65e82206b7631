"""First start: an owner user, so someone can sign in and grant access to others."""

from __future__ import annotations

import logging
import sys

from sqlalchemy import Connection

from berth.access.roles import find_role
from berth.access.secrets import Secret, generate, hash_secret
from berth.config import Settings
from berth.metadata import identities as identity_rows
from berth.metadata import role_assignments as assignment_rows
from berth.metadata.database import Database
from berth.tenancy import Tenancy

log = logging.getLogger("berth.directory")


def bootstrap_upn(settings: Settings) -> str:
    return f"admin@{settings.domain}"


def bootstrap_owner(settings: Settings, db: Database, tenancy: Tenancy) -> None:
    """Create the owner user when the directory has no users yet (idempotent)."""
    if db.read_sync(identity_rows.list_all, identity_rows.USER):
        return
    generated = not settings.bootstrap_password
    password = generate(24) if generated else Secret(settings.bootstrap_password)
    upn = bootstrap_upn(settings)
    owner = find_role("Owner")
    assert owner is not None

    def work(conn: Connection) -> None:
        record = identity_rows.create_user(conn, upn, "berth owner", hash_secret(password))
        assignment_rows.create(conn, record.id, owner.id, tenancy.subscription_scope)

    db.write_sync(work)
    log.info("created the owner user %s with the Owner role on the whole service", upn)
    if generated:
        # Printed once, to the terminal only (never to the log): the operator needs it to sign in.
        print(
            f"\n  berth: first start — owner user {upn}\n  password (shown once): {password.reveal()}\n"
            f"  sign in with: berth login -u {upn} --server {settings.service_url}\n",
            file=sys.stderr,
            flush=True,
        )
