"""berth.app.first_start: the work of a new database, done once even when replicas start
together on one PostgreSQL database (the start-up advisory lock)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from berth.app import first_start
from berth.config import load_settings
from berth.metadata import identities as identity_rows
from berth.metadata import signing_keys as key_rows
from berth.metadata.database import Database
from tests.support.postgres import create_database

REPLICAS = 4


@pytest.mark.postgres
def test_replicas_starting_together_create_one_owner_one_key_and_one_tenant(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    url = create_database(postgres_admin_url)
    settings = load_settings(
        overrides={"data_dir": tmp_path, "database_url": url, "bootstrap_password": "owner-password-1234"},
        environ={},
        detect_tls=False,
    )
    ready = threading.Barrier(REPLICAS)
    tenants: list[str] = []
    failures: list[BaseException] = []

    def replica() -> None:
        db = Database(url)
        try:
            ready.wait()
            tenancy, _ = first_start(settings, db)
            tenants.append(tenancy.tenant_id)
        except BaseException as exc:
            failures.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=replica) for _ in range(REPLICAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(set(tenants)) == 1
    assert len(tenants) == REPLICAS
    db = Database(url)
    try:
        assert len(db.read_sync(identity_rows.list_all, identity_rows.USER)) == 1
        keys = db.read_sync(key_rows.list_all)
        assert len([k for k in keys if k.retired_at is None]) == 1
    finally:
        db.dispose()


def test_first_start_is_idempotent_on_sqlite(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path}, environ={}, detect_tls=False)
    db = Database(settings.resolved_database_url)
    try:
        first, _ = first_start(settings, db)
        again, _ = first_start(settings, db)
        assert first == again
        assert len(db.read_sync(identity_rows.list_all, identity_rows.USER)) == 1
    finally:
        db.dispose()
