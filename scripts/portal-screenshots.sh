#!/usr/bin/env bash
# Refreshes the portal's screenshots in docs/portal/ (1280x800 PNG): runs the browser suite
# (tests/e2e/portal) with BERTH_PORTAL_SCREENSHOTS pointing there. Needs what `make test` needs
# (chromium, docker, npm for axe-core's one-time download).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
BERTH_PORTAL_SCREENSHOTS="$PWD/docs/portal" "$PYTHON" -m pytest tests/e2e/portal -q -p no:cacheprovider "$@"
