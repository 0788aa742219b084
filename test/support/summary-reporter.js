// Mocha's spec reporter, plus the run's counts and the titles of skipped (pending) tests
// written to $TEST_STATS_FILE, so scripts/test.sh can print one closing
// "N passed, N failed, N skipped" line over all suites (test/support/test-summary.js).
"use strict";
const fs = require("node:fs");
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const pendingTests = [];
    // it.skip, describe.skip, tests without a body and this.skip() all end here.
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (test) => pendingTests.push(test.fullTitle()));
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.TEST_STATS_FILE;
      if (file) {
        fs.writeFileSync(file, JSON.stringify({ passes: this.stats.passes, failures: this.stats.failures, pending: this.stats.pending, pendingTests }));
      }
    });
  }
}
module.exports = SummaryReporter;
