#!/usr/bin/env bash
# Installs everything the platform and its tests need, idempotently and without state from
# an earlier session: Debian packages, npm packages, the Go-built engine and cluster tools.
# A warm machine takes seconds; every failure stops with a message saying what failed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------
# postgresql: backup/restore round trips; openssl+curl: local cluster certificates and
# health checks, jq for its API calls; chromium: the signup page's browser tests; python3-venv: moto (S3) for tests; python3-psycopg2: the Odoo init script's tests.
APT_PACKAGES=(postgresql postgresql-client openssl curl jq ca-certificates chromium python3-venv python3-psycopg2)
# shellcheck source=debian-packages.sh
source scripts/debian-packages.sh
ensure_debian_packages "${APT_PACKAGES[@]}"

# --- npm packages ----------------------------------------------------------------------
# --ignore-scripts: @pulumi/kubernetes' install hook would try to download its plugin.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.odoo-saas-lock ] || [ "$(cat node_modules/.odoo-saas-lock)" != "$lock_hash" ]; then
  step "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.odoo-saas-lock
else
  step "node_modules up to date"
fi

# --- moto: a real S3-compatible server for the backup store tests (PyPI, private venv) ----
MOTO_VENV="${HOME}/.cache/odoo-saas/moto-venv"
if [ ! -x "$MOTO_VENV/bin/moto_server" ]; then
  step "moto[server] into $MOTO_VENV"
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
else
  step "moto present ($MOTO_VENV)"
fi

# --- Go-built tools (Pulumi CLI, kube-apiserver & co, etcd, kwok) -----------------------
step "Go-built tools"
bash scripts/build-tools.sh

step "TypeScript build"
npx tsc -p tsconfig.json

# --- the local cluster's real node: containerd & co, kubelet, kube-router, CoreDNS, Traefik, and
# the images (after the build: the backup image carries the compiled backup CLI)
step "real node (scripts/prepare-real-node.sh)"
bash scripts/prepare-real-node.sh
echo "prepared."
