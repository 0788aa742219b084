import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { main } from "../../tenants/check-cli";

const repoRoot = path.resolve(__dirname, "../../..");

function capture(fn: () => number): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => { out.push(a.join(" ")); };
  console.error = (...a: unknown[]) => { err.push(a.join(" ")); };
  try {
    return { code: fn(), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe("check:tenants (the pull-request check)", () => {
  // Folders the tests write stack files into, removed after each test.
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-tenants-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("passes on Pulumi.dev.yaml", () => {
    const { code, out } = capture(() => main(["--dir", repoRoot, "--stack", "dev"]));
    expect(code).to.equal(0);
    expect(out).to.contain("Pulumi.dev.yaml: valid, 3 tenant(s)");
    expect(out).to.contain("globex: plan business, Odoo 17.0 -> globex.odoo-saas.test, erp.globex.example");
  });

  it("fails with field-level messages on a bad copy", () => {
    const dir = tempDir();
    const good = fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8");
    const bad = good
      .replace("adminEmail: it@globex.example", "adminEmail: it-at-globex")
      .replace("id: initech", "id: acme")
      .replace("retention: { daily: 14 }", "retention: { daily: -1 }");
    fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), bad);
    const { code, err } = capture(() => main(["--dir", dir, "--stack", "broken"]));
    expect(code).to.equal(1);
    expect(err).to.contain("nothing would be created");
    expect(err).to.contain('tenants[1] (id "globex"): adminEmail: must be an e-mail address');
    expect(err).to.contain('tenants[1] (id "globex"): backup.retention.daily: must be a whole number from 0 to 1000');
    expect(err).to.contain('tenants[2] (id "acme"): id: duplicate id');
  });

  it("refuses names every JavaScript object has, naming the tenant and the field", () => {
    const dir = tempDir();
    const good = fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8");
    for (const plan of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      fs.writeFileSync(path.join(dir, "Pulumi.proto.yaml"), good.replace("plan: business", `plan: "${plan}"`));
      const { code, out, err } = capture(() => main(["--dir", dir, "--stack", "proto"]));
      expect(code, plan).to.equal(1);
      expect(out, plan).to.not.contain("valid");
      expect(err, plan).to.contain(`tenants[1] (id "globex"): plan: unknown plan "${plan}" (plans: starter, business)`);
    }
    // A top-level key named like the prototype is an unknown key, not a way to inject settings.
    fs.writeFileSync(path.join(dir, "Pulumi.proto.yaml"), good.replace("config:\n", "config:\n  odoo-saas:__proto__:\n    colour: blue\n"));
    const proto = capture(() => main(["--dir", dir, "--stack", "proto"]));
    expect(proto.code).to.equal(1);
    expect(proto.err).to.contain("__proto__: unknown key");
    fs.writeFileSync(path.join(dir, "Pulumi.proto.yaml"), good.replace("config:\n", "config:\n  odoo-saas:constructor: x\n"));
    expect(capture(() => main(["--dir", dir, "--stack", "proto"])).err).to.contain("constructor: unknown key");
  });

  it("refuses ids and hosts the self-service stack owns (--taken)", () => {
    const dir = tempDir();
    const taken = path.join(dir, "taken.json");
    fs.writeFileSync(taken, JSON.stringify({ stack: "dev-selfservice", ids: ["initech", "someone"], hosts: ["initech.odoo-saas.test", "erp.globex.example"] }));
    const { code, err } = capture(() => main(["--dir", repoRoot, "--stack", "dev", "--taken", taken]));
    expect(code).to.equal(1);
    expect(err).to.contain('tenants[2] (id "initech"): id: "initech" is already used by the self-service stack dev-selfservice');
    expect(err).to.contain('tenants[1] (id "globex"): customDomains[0]: host "erp.globex.example" is already served by the self-service stack dev-selfservice');
    fs.writeFileSync(taken, JSON.stringify({ stack: "dev-selfservice", ids: ["someone"], hosts: ["someone.odoo-saas.test"] }));
    expect(capture(() => main(["--dir", repoRoot, "--stack", "dev", "--taken", taken])).code).to.equal(0);
    fs.writeFileSync(taken, "{}");
    expect(capture(() => main(["--dir", repoRoot, "--stack", "dev", "--taken", taken])).code).to.equal(2);
  });

  it("exits 2 when the stack file is missing", () => {
    const { code, err } = capture(() => main(["--dir", os.tmpdir(), "--stack", "nope"]));
    expect(code).to.equal(2);
    expect(err).to.match(/cannot read .*Pulumi\.nope\.yaml/);
  });
});
