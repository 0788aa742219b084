/**
 * The pull-request workflow passes actionlint (built by scripts/build-tools.sh at the version
 * tools/versions.env pins), and actionlint does reject a broken copy: the check can fail.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";

const repoRoot = path.resolve(__dirname, "../../..");
const actionlint = path.join(repoRoot, ".tools", "bin", "actionlint");
const workflows = path.join(repoRoot, ".github", "workflows");

function lint(files: string[], cwd = repoRoot): { status: number | null; out: string } {
  if (!fs.existsSync(actionlint)) throw new Error(`${actionlint} is missing: run scripts/build-tools.sh actionlint`);
  // -shellcheck= : the same result with or without shellcheck installed on this machine.
  const run = spawnSync(actionlint, ["-no-color", "-shellcheck=", "-pyflakes=", ...files], { cwd, encoding: "utf8" });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("CI workflows (actionlint)", () => {
  const files = fs.readdirSync(workflows).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(workflows, f));

  it("has the pull-request workflow of the tenants file, and every workflow passes actionlint", () => {
    expect(files.map((f) => path.basename(f))).to.include("tenants-pr.yml");
    const { status, out } = lint(files);
    expect(out).to.equal("");
    expect(status).to.equal(0);
  });

  it("the workflow runs check:tenants and the per-tenant preview on changes of Pulumi.*.yaml, and comments", () => {
    const text = fs.readFileSync(path.join(workflows, "tenants-pr.yml"), "utf8");
    expect(text).to.match(/pull_request:\n\s+paths:\n\s+- "Pulumi\.\*\.yaml"/);
    expect(text).to.include("scripts/tenants-pr.sh");
    expect(fs.readFileSync(path.join(repoRoot, "scripts", "tenants-pr.sh"), "utf8")).to.include("check-cli.js").and.include("fleet.js preview");
    expect(text).to.include("gh pr comment");
  });

  it("rejects a broken copy (an unknown key, a step output that does not exist)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-"));
    try {
      fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
      const broken = fs.readFileSync(path.join(workflows, "tenants-pr.yml"), "utf8")
        .replace("runs-on: ubuntu-24.04", "run-on: ubuntu-24.04")
        .replace("steps.preview.outputs.status", "steps.nonexistent.outputs.status");
      const file = path.join(dir, ".github", "workflows", "broken.yml");
      fs.writeFileSync(file, broken);
      const { status, out } = lint([file], dir);
      expect(status).to.equal(1);
      expect(out).to.match(/"runs-on" section is missing|unexpected key "run-on"/);
      expect(out).to.include("nonexistent");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
