// The closing summary of scripts/test.sh over every suite's stats file (written by
// summary-reporter.js): "N passed, N failed, N skipped". A skipped (pending) test fails the
// run unless test/allowed-skips.json lists it with a reason: a test that does not run proves
// nothing, and silence about it would read as a pass.
//
// usage: node test/support/test-summary.js <stats dir> <allow-list file> <suite>...
// Exit 0 only when every suite left its stats, none failed and every skip is allowed.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

/** The allow-list: [{ suite, test, reason }], `test` being the full title mocha prints. */
function readAllowList(file) {
  let entries;
  try {
    entries = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    if (err.code === "ENOENT") return { entries: [], problems: [] };
    return { entries: [], problems: [`${file}: ${err.message}`] };
  }
  if (!Array.isArray(entries)) return { entries: [], problems: [`${file}: must be a JSON list of { "suite", "test", "reason" }`] };
  const problems = [];
  const valid = entries.filter((e, i) => {
    const ok = e !== null && typeof e === "object" && typeof e.suite === "string" && typeof e.test === "string"
      && typeof e.reason === "string" && e.reason.trim() !== "";
    if (!ok) problems.push(`${file}[${i}]: needs "suite", "test" and a non-empty "reason"`);
    return ok;
  });
  return { entries: valid, problems };
}

/**
 * @param {Array<{ suite: string, stats: null | { passes: number, failures: number, pending: number, pendingTests?: string[] } }>} suites
 * @param {Array<{ suite: string, test: string, reason: string }>} allowed
 */
function summarise(suites, allowed) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const unallowed = [];
  const missing = [];
  for (const { suite, stats } of suites) {
    if (stats === null) {
      // The suite never reached its end: count it as a failure, loudly.
      missing.push(suite);
      failed += 1;
      continue;
    }
    passed += stats.passes;
    failed += stats.failures;
    skipped += stats.pending;
    const titles = Array.isArray(stats.pendingTests) ? stats.pendingTests : [];
    for (const title of titles) {
      if (!allowed.some((a) => a.suite === suite && a.test === title)) unallowed.push(`${suite}: ${title}`);
    }
    // A count without titles (an older reporter) cannot be checked against the list.
    for (let i = titles.length; i < stats.pending; i++) unallowed.push(`${suite}: (an unnamed skipped test)`);
  }
  return {
    passed, failed, skipped, unallowed, missing,
    line: `${passed} passed, ${failed} failed, ${skipped} skipped`,
    ok: failed === 0 && unallowed.length === 0 && missing.length === 0,
  };
}

function readStats(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function main(argv) {
  const [statsDir, allowFile, ...names] = argv;
  if (!statsDir || !allowFile || names.length === 0) {
    console.error("usage: test-summary.js <stats dir> <allow-list file> <suite>...");
    return 2;
  }
  const allow = readAllowList(allowFile);
  const result = summarise(names.map((suite) => ({ suite, stats: readStats(path.join(statsDir, `${suite}.json`)) })), allow.entries);
  for (const problem of allow.problems) console.log(`allow-list: ${problem}`);
  if (result.missing.length > 0) console.log(`suites that did not finish: ${result.missing.join(" ")}`);
  if (result.unallowed.length > 0) {
    console.log(`skipped tests not in ${allowFile} (list each with its reason, or make it run):`);
    for (const t of result.unallowed) console.log(`  - ${t}`);
  }
  console.log(result.line);
  return result.ok && allow.problems.length === 0 ? 0 : 1;
}

module.exports = { summarise, readAllowList };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
