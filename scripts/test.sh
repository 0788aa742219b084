#!/usr/bin/env bash
# The test command (README, `npm test`, .ci/run): prepares the machine, then runs every
# suite against the real parts (engine, API server, PostgreSQL, Chromium) and ends with one
# closing line "N passed, N failed, N skipped" over all suites (test/support/test-summary.js).
# Exit 0 only when every suite passed and every skipped test is listed, with its reason, in
# test/allowed-skips.json.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh || { echo "0 passed, 1 failed, 0 skipped"; echo "set-up failed: see above"; exit 1; }

stats_dir=$(mktemp -d)
trap 'rm -rf "$stats_dir"' EXIT
broken=(); names=()

# name : mocha config. Each suite runs in its own process (Pulumi mocks are process-wide).
SUITES=(
  "unit:test/mocharc.unit.json"
  "engine:test/mocharc.engine.json"
  "integration:test/mocharc.integration.json"
  "cluster:test/mocharc.cluster.json"
  "node:test/mocharc.node.json"
  "backup:test/mocharc.backup.json"
  "init:test/mocharc.init.json"
  "queue:test/mocharc.queue.json"
  "api:test/mocharc.api.json"
  "browser:test/mocharc.browser.json"
)
# The SDK warns that its 2027 releases will need Node 22; the pinned release runs on Node 20.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
for suite in "${SUITES[@]}"; do
  name=${suite%%:*}; config=${suite#*:}
  names+=("$name")
  printf '\n===== suite: %s =====\n' "$name"
  start=$(date +%s)
  TEST_STATS_FILE="$stats_dir/$name.json" npx mocha --config "$config"
  code=$?
  [ "$code" -eq 0 ] || broken+=("$name")
  echo "suite $name: $(node test/support/test-summary.js "$stats_dir" test/allowed-skips.json "$name" | tail -n 1) in $(( $(date +%s) - start ))s"
done

# The project's own Go plugins: the random provider plugin and the Node.js language host.
# Their unit tests, tests that build and serve the binaries over gRPC, and the host under the
# Go-built pulumi CLI, counted per test function (subtests included) into the same stats
# format as the mocha suites.
printf '\n===== suite: plugins (go test, tools/pulumi-random, tools/pulumi-language-nodejs) =====\n'
names+=("plugins")
start=$(date +%s)
go_log="$stats_dir/go-test.log"
: > "$go_log"
code=0
for module in tools/pulumi-random tools/pulumi-language-nodejs; do
  (cd "$module" && GOTOOLCHAIN=local CGO_ENABLED=0 go test -v -count=1 ./... 2>&1) >> "$go_log" || code=1
done
grep -E '^(\s*--- (FAIL|SKIP)|FAIL|ok|PASS)' "$go_log"
p=$(grep -cE '^\s*--- PASS' "$go_log"); f=$(grep -cE '^\s*--- FAIL' "$go_log")
# A build failure has no "--- FAIL" line: count it as one failure.
if [ "$code" -ne 0 ]; then broken+=("plugins"); [ "$f" -gt 0 ] || f=1; fi
node -e 'const [file, p, f, log] = process.argv.slice(1);
  const skipped = require("node:fs").readFileSync(log, "utf8").split("\n").flatMap((l) => { const m = /^\s*--- SKIP: (\S+)/.exec(l); return m ? [m[1]] : []; });
  require("node:fs").writeFileSync(file, JSON.stringify({ passes: Number(p), failures: Number(f), pending: skipped.length, pendingTests: skipped }));' \
  "$stats_dir/plugins.json" "$p" "$f" "$go_log"
echo "suite plugins: $(node test/support/test-summary.js "$stats_dir" test/allowed-skips.json plugins | tail -n 1) in $(( $(date +%s) - start ))s"

echo
if ((${#broken[@]})); then echo "failing suites: ${broken[*]}"; fi
node test/support/test-summary.js "$stats_dir" test/allowed-skips.json "${names[@]}"
summary=$?
[ "${#broken[@]}" -eq 0 ] && [ "$summary" -eq 0 ]
