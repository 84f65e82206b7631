#!/usr/bin/env bash
# Back up a berth service: the metadata database first, then the blob store (docs/deployment.md).
# Safe while berth runs. tests/e2e/test_backup_restore.py runs this very script.
#
#   BERTH_DATA_DIR       the service's data folder (its blobs are in $BERTH_DATA_DIR/storage)
#   BERTH_DATABASE_URL   postgresql://... when the metadata is in PostgreSQL; unset for SQLite
#   BACKUP_DIR           where the backup goes (a new, empty folder)
set -euo pipefail
: "${BERTH_DATA_DIR:?}" "${BACKUP_DIR:?}"
mkdir -p "$BACKUP_DIR"

# 1. The metadata: a consistent snapshot, taken while the service keeps writing.
if [ -n "${BERTH_DATABASE_URL:-}" ]; then
  pg_dump --format=custom --no-owner --file="$BACKUP_DIR/metadata.dump" "$BERTH_DATABASE_URL"
else
  sqlite3 "$BERTH_DATA_DIR/metadata.db" ".backup '$BACKUP_DIR/metadata.db'"
fi

# 2. The blobs, after the metadata: a blob is written once under its digest and never changed,
#    so every blob the snapshot references is already in the store and lands in the copy.
cp -a "$BERTH_DATA_DIR/storage" "$BACKUP_DIR/storage"
