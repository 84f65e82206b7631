#!/usr/bin/env bash
# Installs the Debian packages the test suites and benchmarks drive: the docker engine and CLI,
# skopeo, podman, buildah, PostgreSQL, the CNCF Distribution registry, HAProxy (the replica tests),
# the sqlite3 shell (the backup test), chromium (the portal's browser suite) and node/npm.
# Idempotent; a no-op when all are present. Needs root (CI runs as root); otherwise prints what to install.
set -euo pipefail

packages=(docker.io containerd skopeo podman buildah postgresql docker-registry wrk faketime haproxy sqlite3 chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# node and npm for the JavaScript SDK suite (tests/e2e/js); a nodesource nodejs bundles its own npm.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages' own services are not used: the tests start private instances.
systemctl disable --now docker.service docker.socket postgresql.service docker-registry.service haproxy.service >/dev/null 2>&1 || true
