#!/usr/bin/env bash
# The test command (README, `npm test`, .ci/run): prepares the machine, then runs every
# suite against the real parts (engine, API server, PostgreSQL, Chromium) and ends with one
# closing line "N passed, N failed" over all suites. Exit 0 only when every suite passed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh || { echo "0 passed, 1 failed"; echo "set-up failed: see above"; exit 1; }

stats_dir=$(mktemp -d)
trap 'rm -rf "$stats_dir"' EXIT
total_pass=0; total_fail=0; broken=()

# name : mocha config. Each suite runs in its own process (Pulumi mocks are process-wide).
SUITES=(
  "unit:test/mocharc.unit.json"
  "engine:test/mocharc.engine.json"
  "integration:test/mocharc.integration.json"
  "cluster:test/mocharc.cluster.json"
  "backup:test/mocharc.backup.json"
  "init:test/mocharc.init.json"
  "api:test/mocharc.api.json"
  "browser:test/mocharc.browser.json"
)
# The SDK warns that its 2027 releases will need Node 22; the pinned release runs on Node 20.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
for suite in "${SUITES[@]}"; do
  name=${suite%%:*}; config=${suite#*:}
  printf '\n===== suite: %s =====\n' "$name"
  start=$(date +%s)
  TEST_STATS_FILE="$stats_dir/$name.json" npx mocha --config "$config"
  code=$?
  if [ -f "$stats_dir/$name.json" ]; then
    read -r p f < <(node -e 'const s=require(process.argv[1]); console.log(s.passes, s.failures)' "$stats_dir/$name.json")
  else
    p=0; f=1  # the suite never reached its end: count it as a failure, loudly
  fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$code" -eq 0 ] || broken+=("$name")
  echo "suite $name: $p passed, $f failed in $(( $(date +%s) - start ))s"
done

# The project's own random provider plugin (Go): its unit tests and a test that builds and
# serves the binary over gRPC. Counted per test function (subtests included).
printf '\n===== suite: plugins (go test, tools/pulumi-random) =====\n'
start=$(date +%s)
go_log="$stats_dir/go-test.log"
(cd tools/pulumi-random && GOTOOLCHAIN=local CGO_ENABLED=0 go test -v -count=1 ./... 2>&1) | tee "$go_log" | grep -E '^(\s*--- (FAIL|SKIP)|FAIL|ok|PASS)' || true
p=$(grep -cE '^\s*--- PASS' "$go_log"); f=$(grep -cE '^\s*--- FAIL' "$go_log"); sk=$(grep -cE '^\s*--- SKIP' "$go_log")
if ! grep -qE '^ok\s' "$go_log" || [ "$f" -gt 0 ] || [ "$sk" -gt 0 ]; then broken+=("plugins"); [ "$f" -gt 0 ] || f=1; fi
total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
echo "suite plugins: $p passed, $f failed, $sk skipped in $(( $(date +%s) - start ))s"

echo
if ((${#broken[@]})); then echo "failing suites: ${broken[*]}"; fi
echo "$total_pass passed, $total_fail failed"
[ "${#broken[@]}" -eq 0 ] && [ "$total_fail" -eq 0 ]
