/**
 * The engine-side choices made without the engine: which plugin runs (Pulumi's installed
 * one, the project's build, or a download), which stack locks are stale, and how an
 * engine run's events become a per-tenant change summary.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { formatChangeTable, hasChanges, PLATFORM, summarizeChanges } from "../../automation/engine/change-summary";
import { engineEnv } from "../../automation/engine/engine-env";
import { choosePluginSource, installedKey, planPlugins, type PluginFacts } from "../../automation/engine/plugins";
import { isStaleLock, judgeLock, readLocks, removeStaleLock } from "../../automation/engine/open-stack";

const fakeRoots: string[] = [];
after(() => {
  for (const root of fakeRoots) fs.rmSync(root, { recursive: true, force: true });
});

function fakeRoot(): { root: string; home: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-plugins-"));
  fakeRoots.push(root);
  for (const [name, version] of [["kubernetes", "4.34.2"], ["random", "4.21.2"]]) {
    const dir = path.join(root, "node_modules", "@pulumi", name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `@pulumi/${name}`, version }));
  }
  return { root, home: path.join(root, "home") };
}

function executable(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
}

describe("plugin choice", () => {
  const facts = (over: Partial<PluginFacts>): PluginFacts => ({ installed: new Set(), built: new Map(), pulumiHome: "/home/p", ...over });
  const req = { name: "kubernetes" as const, version: "4.34.2" };

  it("prefers Pulumi's plugin installed at the SDK's version over the project's build", () => {
    const source = choosePluginSource(req, facts({ installed: new Set([installedKey("kubernetes", "4.34.2")]), built: new Map([["kubernetes", "/b"]]) }));
    expect(source).to.deep.equal({ kind: "installed", name: "kubernetes", version: "4.34.2", dir: "/home/p/plugins/resource-kubernetes-v4.34.2" });
  });

  it("uses the project's build when Pulumi's is not installed at that version", () => {
    const source = choosePluginSource(req, facts({ installed: new Set([installedKey("kubernetes", "4.30.0")]), built: new Map([["kubernetes", "/b"]]) }));
    expect(source).to.deep.include({ kind: "built", dir: "/b" });
  });

  it("asks for a download only when neither exists", () => {
    expect(choosePluginSource(req, facts({})).kind).to.equal("acquire");
  });

  it("reads the facts from disk: built plugins go on PATH, downloads stay off while nothing needs one", () => {
    const { root, home } = fakeRoot();
    executable(path.join(root, ".tools", "plugins", "kubernetes", "pulumi-resource-kubernetes"));
    executable(path.join(home, "plugins", "resource-random-v4.21.2", "pulumi-resource-random"));
    const plan = planPlugins(root, home);
    expect(plan.sources.map((s) => `${s.name}:${s.kind}`)).to.deep.equal(["kubernetes:built", "random:installed"]);
    expect(plan.acquisition).to.equal(false);
    const env = engineEnv({ backendDir: path.join(root, "backend"), pulumiHome: home }, root, plan);
    expect(env.PATH?.split(path.delimiter)[0]).to.equal(path.join(root, ".tools", "plugins", "kubernetes"));
    expect(env.PATH).not.to.include(path.join(root, ".tools", "plugins", "random"));
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).to.equal("true");
  });

  it("on a machine with neither (a user's own Pulumi), lets the engine download the SDK's versions", () => {
    const { root, home } = fakeRoot();
    // A download that never finished is not an installed plugin.
    executable(path.join(home, "plugins", "resource-kubernetes-v4.34.2", "pulumi-resource-kubernetes"));
    fs.writeFileSync(path.join(home, "plugins", "resource-kubernetes-v4.34.2.partial"), "");
    const plan = planPlugins(root, home);
    expect(plan.sources.map((s) => `${s.name}@${s.version}:${s.kind}`)).to.deep.equal(["kubernetes@4.34.2:acquire", "random@4.21.2:acquire"]);
    const env = engineEnv({ backendDir: path.join(root, "backend"), pulumiHome: home }, root, plan);
    expect(Object.hasOwn(env, "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION")).to.equal(false);
  });

  it("a plugin file that is not executable does not count as built", () => {
    const { root, home } = fakeRoot();
    const file = path.join(root, ".tools", "plugins", "random", "pulumi-resource-random");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "", { mode: 0o644 });
    expect(planPlugins(root, home).sources.find((s) => s.name === "random")?.kind).to.equal("acquire");
  });
});

describe("stale stack locks", () => {
  const lock = { file: "x.json", pid: 4242, hostname: "here", timestamp: "t" };
  it("a lock of a dead engine on this host is stale", () => {
    expect(isStaleLock(lock, "here", () => false)).to.equal(true);
  });
  it("a lock of a live engine, another host, or unreadable, is not", () => {
    expect(isStaleLock(lock, "here", () => true)).to.equal(false);
    expect(isStaleLock(lock, "elsewhere", () => false)).to.equal(false);
    expect(isStaleLock({ ...lock, pid: undefined }, "here", () => false)).to.equal(false);
  });
  it("the one policy: a live engine's lock is never removed, even by a holder of the lock across hosts", () => {
    expect(judgeLock(lock, false, "here", () => true)).to.equal("live");
    expect(judgeLock(lock, true, "here", () => true)).to.equal("live");
    expect(judgeLock({ ...lock, pid: undefined }, true, "here", () => false)).to.equal("live");
  });
  it("a dead engine's lock on this host is removed by any caller", () => {
    expect(judgeLock(lock, false, "here", () => false)).to.equal("dead");
    expect(judgeLock(lock, true, "here", () => false)).to.equal("dead");
  });
  it("another host's lock is live unless the caller holds the stack's lock across hosts (fenced: that engine cannot run)", () => {
    expect(judgeLock(lock, false, "elsewhere", () => false)).to.equal("live");
    expect(judgeLock(lock, true, "elsewhere", () => true)).to.equal("fenced");
  });
});

describe("a dead engine's lock removed", () => {
  it("takes the lock and its sidecar, and the state's half-written sidecars, and keeps the state and whole sidecars", () => {
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "stale-lock-"));
    try {
      const locks = path.join(backend, ".pulumi", "locks", "organization", "odoo-saas", "dev");
      const stacks = path.join(backend, ".pulumi", "stacks", "odoo-saas");
      fs.mkdirSync(locks, { recursive: true });
      fs.mkdirSync(stacks, { recursive: true });
      fs.writeFileSync(path.join(locks, "a.json"), JSON.stringify({ pid: 4_000_000, hostname: os.hostname(), timestamp: "t" }));
      fs.writeFileSync(path.join(locks, "a.json.attrs"), "{}");
      fs.writeFileSync(path.join(stacks, "dev.json"), "{\"version\": 3}");
      fs.writeFileSync(path.join(stacks, "dev.json.attrs"), ""); // killed between create and write
      fs.writeFileSync(path.join(stacks, "dev.json.bak.attrs"), "{\"user.content_type\": \"application/octet-stream\"}");
      fs.writeFileSync(path.join(stacks, "devx.json.attrs"), ""); // another stack: not ours to touch
      const [lock] = readLocks({ backendDir: backend, pulumiHome: backend }, "dev");
      expect(lock?.pid).to.equal(4_000_000);
      const lines: string[] = [];
      removeStaleLock({ backendDir: backend, pulumiHome: backend }, "dev", lock!, (line) => lines.push(line));
      expect(fs.readdirSync(locks)).to.deep.equal([]);
      expect(fs.readdirSync(stacks).sort()).to.deep.equal(["dev.json", "dev.json.bak.attrs", "devx.json.attrs"]);
      expect(lines.join("\n")).to.match(/removing dev\.json\.attrs, a state sidecar/);
    } finally {
      fs.rmSync(backend, { recursive: true, force: true });
    }
  });
});

describe("per-tenant change summary", () => {
  const urn = (type: string, name: string): string => `urn:pulumi:dev::odoo-saas::${type}::${name}`;
  const pre = (op: string, type: string, name: string, qualified = `odoo-saas:index:OdooTenant$${type}`): EngineEvent =>
    ({ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, urn: urn(qualified, name), type, provider: "" } } }) as unknown as EngineEvent;

  it("counts per tenant by component name, a replacement once, and lists destructive steps", () => {
    const events = [
      pre("create", "odoo-saas:index:OdooTenant", "acme", "odoo-saas:index:OdooTenant"),
      pre("create", "kubernetes:core/v1:Namespace", "acme-namespace"),
      pre("create", "kubernetes:apps/v1:Deployment", "acme-odoo"),
      pre("same", "odoo-saas:index:OdooTenant", "acme-b", "odoo-saas:index:OdooTenant"),
      pre("create-replacement", "kubernetes:apps/v1:StatefulSet", "acme-b-postgres"),
      pre("replace", "kubernetes:apps/v1:StatefulSet", "acme-b-postgres"),
      pre("delete-replaced", "kubernetes:apps/v1:StatefulSet", "acme-b-postgres"),
      pre("same", "kubernetes:core/v1:Secret", "acme-b-db-secret"),
      pre("create", "pulumi:pulumi:Stack", "odoo-saas-dev", "pulumi:pulumi:Stack"),
      pre("update", "kubernetes:core/v1:Namespace", "shared", "kubernetes:core/v1:Namespace"),
    ];
    const summary = summarizeChanges(events);
    expect(summary.tenants.get("acme")).to.deep.equal({ create: 2, update: 0, replace: 0, delete: 0, same: 0 });
    // "acme-b-postgres" belongs to acme-b (the longest id), not acme.
    expect(summary.tenants.get("acme-b")).to.deep.equal({ create: 0, update: 0, replace: 1, delete: 0, same: 1 });
    expect(summary.tenants.get(PLATFORM)?.update).to.equal(1);
    expect(summary.destructive.get("acme-b")).to.deep.equal(["replace acme-b-postgres (StatefulSet)"]);
    expect(hasChanges(summary)).to.equal(true);
    const table = formatChangeTable(summary);
    expect(table.split("\n").slice(2, 5)).to.deep.equal(["| acme | 2 | 0 | 0 | 0 | 0 |", "| acme-b | 0 | 0 | 1 | 0 | 1 |", "| (platform) | 0 | 1 | 0 | 0 | 0 |"]);
    expect(table).to.include("**acme-b**: replace acme-b-postgres (StatefulSet)");
  });

  it("only 'same' steps: no changes", () => {
    const summary = summarizeChanges([pre("same", "odoo-saas:index:OdooTenant", "acme", "odoo-saas:index:OdooTenant"), pre("same", "kubernetes:apps/v1:Deployment", "acme-odoo")]);
    expect(hasChanges(summary)).to.equal(false);
  });
});
