/**
 * The closing line of scripts/test.sh: per-suite stats from the summary reporter, summed by
 * test/support/test-summary.js. Skipped (pending) tests are counted and fail the run unless
 * test/allowed-skips.json lists them with a reason.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

interface Stats { passes: number; failures: number; pending: number; pendingTests?: string[] }
interface Allowed { suite: string; test: string; reason: string }
interface Summary { passed: number; failed: number; skipped: number; unallowed: string[]; missing: string[]; line: string; ok: boolean }

const repoRoot = path.resolve(__dirname, "../../..");
const summaryScript = path.join(repoRoot, "test/support/test-summary.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { summarise } = require(summaryScript) as { summarise: (suites: Array<{ suite: string; stats: Stats | null }>, allowed: Allowed[]) => Summary };

describe("test summary (scripts/test.sh)", () => {
  it("sums passed, failed and skipped over the suites", () => {
    const result = summarise([
      { suite: "unit", stats: { passes: 10, failures: 0, pending: 0, pendingTests: [] } },
      { suite: "api", stats: { passes: 5, failures: 2, pending: 0, pendingTests: [] } },
    ], []);
    expect(result.line).to.equal("15 passed, 2 failed, 0 skipped");
    expect(result.ok).to.equal(false);
    expect(summarise([{ suite: "unit", stats: { passes: 3, failures: 0, pending: 0, pendingTests: [] } }], []).ok).to.equal(true);
  });

  it("fails on a skipped test that the allow-list does not name, and passes when it does (same suite, same title)", () => {
    const stats = { passes: 4, failures: 0, pending: 1, pendingTests: ["cluster tests needs a CNI"] };
    const refused = summarise([{ suite: "cluster", stats }], []);
    expect(refused.line).to.equal("4 passed, 0 failed, 1 skipped");
    expect(refused.ok).to.equal(false);
    expect(refused.unallowed).to.deep.equal(["cluster: cluster tests needs a CNI"]);
    const allowed = summarise([{ suite: "cluster", stats }], [{ suite: "cluster", test: "cluster tests needs a CNI", reason: "no CNI here" }]);
    expect(allowed.ok).to.equal(true);
    expect(allowed.line).to.equal("4 passed, 0 failed, 1 skipped");
    expect(summarise([{ suite: "unit", stats }], [{ suite: "cluster", test: "cluster tests needs a CNI", reason: "x" }]).ok).to.equal(false);
  });

  it("counts a suite without stats as a failure, and pending counts without titles as unallowed", () => {
    const result = summarise([{ suite: "engine", stats: null }, { suite: "unit", stats: { passes: 1, failures: 0, pending: 2 } }], []);
    expect(result.missing).to.deep.equal(["engine"]);
    expect(result.line).to.equal("1 passed, 1 failed, 2 skipped");
    expect(result.unallowed).to.have.length(2);
    expect(result.ok).to.equal(false);
  });

  it("the reporter records pending tests by title, and the command exits non-zero unless each is allowed with a reason", function () {
    this.timeout(30_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-summary-"));
    try {
      const spec = path.join(dir, "sample.spec.js");
      fs.writeFileSync(spec, [
        'describe("sample", () => {',
        '  it("runs", () => {});',
        '  it.skip("is skipped", () => {});',
        '  it("skips itself", function () { this.skip(); });',
        "});",
      ].join("\n"));
      const mocha = path.join(repoRoot, "node_modules/mocha/bin/mocha.js");
      const run = spawnSync(process.execPath, [mocha, "--reporter", path.join(repoRoot, "test/support/summary-reporter.js"), spec], {
        env: { ...process.env, TEST_STATS_FILE: path.join(dir, "sample.json") }, encoding: "utf8",
      });
      expect(run.status, run.stderr).to.equal(0);
      const stats = JSON.parse(fs.readFileSync(path.join(dir, "sample.json"), "utf8")) as Stats;
      expect(stats).to.deep.equal({ passes: 1, failures: 0, pending: 2, pendingTests: ["sample is skipped", "sample skips itself"] });

      const allowFile = path.join(dir, "allowed-skips.json");
      const summary = (): { status: number | null; out: string } => {
        const r = spawnSync(process.execPath, [summaryScript, dir, allowFile, "sample"], { encoding: "utf8" });
        return { status: r.status, out: r.stdout };
      };
      fs.writeFileSync(allowFile, "[]");
      const refused = summary();
      expect(refused.status).to.equal(1);
      expect(refused.out).to.contain("  - sample: sample is skipped");
      expect(refused.out.trim().split("\n").at(-1)).to.equal("1 passed, 0 failed, 2 skipped");
      fs.writeFileSync(allowFile, JSON.stringify([
        { suite: "sample", test: "sample is skipped", reason: "demonstration" },
        { suite: "sample", test: "sample skips itself", reason: "" },
      ]));
      const noReason = summary();
      expect(noReason.status).to.equal(1);
      expect(noReason.out).to.contain('needs "suite", "test" and a non-empty "reason"');
      fs.writeFileSync(allowFile, JSON.stringify([
        { suite: "sample", test: "sample is skipped", reason: "demonstration" },
        { suite: "sample", test: "sample skips itself", reason: "demonstration" },
      ]));
      expect(summary()).to.deep.equal({ status: 0, out: "1 passed, 0 failed, 2 skipped\n" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the repository's allow-list is a valid, empty list", () => {
    expect(JSON.parse(fs.readFileSync(path.join(repoRoot, "test/allowed-skips.json"), "utf8"))).to.deep.equal([]);
  });
});
