#!/usr/bin/env bash
# Restore a backup made by backup.sh (docs/deployment.md), with berth stopped.
# tests/e2e/test_backup_restore.py runs this very script.
#
#   BERTH_DATA_DIR       the service's data folder (created if missing)
#   BERTH_DATABASE_URL   postgresql://... of an existing (empty or old) database; unset for SQLite
#   BACKUP_DIR           the folder backup.sh wrote
set -euo pipefail
: "${BERTH_DATA_DIR:?}" "${BACKUP_DIR:?}"
mkdir -p "$BERTH_DATA_DIR"

if [ -n "${BERTH_DATABASE_URL:-}" ]; then
  pg_restore --clean --if-exists --no-owner --exit-on-error --dbname="$BERTH_DATABASE_URL" \
    "$BACKUP_DIR/metadata.dump"
else
  rm -f "$BERTH_DATA_DIR/metadata.db-wal" "$BERTH_DATA_DIR/metadata.db-shm"
  cp "$BACKUP_DIR/metadata.db" "$BERTH_DATA_DIR/metadata.db"
fi

rm -rf "$BERTH_DATA_DIR/storage"
cp -a "$BACKUP_DIR/storage" "$BERTH_DATA_DIR/storage"
