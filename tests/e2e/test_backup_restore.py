"""The backup and restore of docs/deployment.md, run as written (docs/deployment/backup.sh and
restore.sh): docker pushes, the backup is taken while berth runs, everything is wiped, the
backup restored, and docker pulls the very same digests; on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import ServerFactory
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball

pytestmark = pytest.mark.e2e

SCRIPTS = Path(__file__).resolve().parents[2] / "docs" / "deployment"


def _run_script(name: str, data_dir: Path, backup_dir: Path, database_url: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env.update(BERTH_DATA_DIR=str(data_dir), BACKUP_DIR=str(backup_dir))
    if database_url:
        env["BERTH_DATABASE_URL"] = database_url
    result = subprocess.run(["bash", str(SCRIPTS / name)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}{result.stderr}"


def _wipe_database(database_url: str) -> None:
    """Drop and create the database again: the restore starts from nothing."""
    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def test_a_restored_backup_serves_the_same_digests(
    database_url: str, make_berth_server: ServerFactory, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    postgres = None if database_url.startswith("sqlite") else database_url
    server = make_berth_server(database_url=postgres)
    pushed: dict[str, str] = {}
    for n in range(2):
        reference = f"{server.address}/backup/app{n}:v1"
        dockerd.run("import", str(rootfs_tarball(tmp_path / f"app{n}.tar")), reference)
        found = re.search(r"digest: (sha256:[0-9a-f]{64})", dockerd.run("push", reference).stdout)
        assert found is not None
        pushed[reference] = found.group(1)

    backup = tmp_path / "backup"
    _run_script("backup.sh", server.data_dir, backup, postgres)  # while berth runs

    server.stop()
    shutil.rmtree(server.data_dir)
    if postgres:
        _wipe_database(postgres)
    for reference in pushed:
        dockerd.run("rmi", reference)

    _run_script("restore.sh", server.data_dir, backup, postgres)
    server.start()
    for reference, digest in pushed.items():
        pulled = re.search(r"Digest: (sha256:[0-9a-f]{64})", dockerd.run("pull", reference).stdout)
        assert pulled is not None
        assert pulled.group(1) == digest
