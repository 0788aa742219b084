#!/usr/bin/env bash
# Backup tests against real servers: installs what is missing (PostgreSQL server from Debian,
# moto from PyPI for the S3 tests), compiles, runs the compiled tests in dist/test/backup and
# ends with mocha's summary plus one "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL server programs (Debian keeps them in /usr/lib/postgresql/<major>/bin).
if ! ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "==> installing PostgreSQL (apt-get install postgresql)"
  apt_install postgresql postgresql-client || { echo "could not install PostgreSQL"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# moto for the S3 tests: an existing moto_server, or a private virtualenv (test/support/moto.ts
# looks in the same place).
MOTO_VENV="${HOME}/.cache/odoo-saas/moto-venv"
if [ ! -x "$MOTO_VENV/bin/moto_server" ] && ! moto_server --help >/dev/null 2>&1; then
  echo "==> installing moto[server] into $MOTO_VENV"
  python3 -m venv "$MOTO_VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$MOTO_VENV"; } ||
    { echo "could not create a Python virtualenv for moto"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6' ||
    { echo "could not install moto"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# Compile. Errors in files outside the backup feature (work in progress elsewhere) do not stop
# these tests, since tsc still emits; errors in the backup feature's own files do.
echo "==> tsc -p tsconfig.json"
tsc_out=$(npx tsc -p tsconfig.json 2>&1); tsc_code=$?
if [ "$tsc_code" -ne 0 ]; then
  echo "$tsc_out"
  if echo "$tsc_out" | grep -Eq '^(backup/|test/backup/|test/support/(postgres|moto)\.ts|scripts/(backup-|bench-backup))'; then
    echo "TypeScript errors in the backup feature"; echo "0 passed, 1 failed, 0 skipped"; exit 1
  fi
  echo "(TypeScript errors above are outside the backup feature; continuing with the emitted JavaScript)"
fi

# The SDK warns that its 2027 releases will need Node 22; the pinned release runs on Node 20.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
stats_dir=$(mktemp -d)
trap 'rm -rf "$stats_dir"' EXIT
TEST_STATS_FILE="$stats_dir/backup.json" npx mocha --config test/mocharc.backup.json
code=$?
# The same summary as scripts/test.sh: "N passed, N failed, N skipped"; unlisted skips fail.
node test/support/test-summary.js "$stats_dir" test/allowed-skips.json backup
summary=$?
[ "$code" -eq 0 ] && [ "$summary" -eq 0 ]
