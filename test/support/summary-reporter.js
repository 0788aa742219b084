// Mocha's spec reporter, plus the run's counts written to $TEST_STATS_FILE so
// scripts/test.sh can print one closing "N passed, N failed" line over all suites.
"use strict";
const fs = require("node:fs");
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.TEST_STATS_FILE;
      if (file) fs.writeFileSync(file, JSON.stringify({ passes: this.stats.passes, failures: this.stats.failures, pending: this.stats.pending }));
    });
  }
}
module.exports = SummaryReporter;
