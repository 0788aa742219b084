/**
 * The real Pulumi engine (CLI built from Go modules by scripts/build-tools.sh) driven through
 * the Automation API, with a local file backend and passphrase secrets: state, secrets,
 * idempotence, refresh and destroy. The provider used here is Pulumi's own dynamic-provider
 * host (a real plugin process); see README "Engine" for the plugins this machine cannot build.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "../../automation/engine/engine-env";
import { odooSaasProgram } from "../../components/platform";
import { repairStateSidecars } from "../../automation/engine/open-stack";

/** A resource whose value the provider generates from the OS CSPRNG on create, and keeps. */
const tokenProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { bytes: number }) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- runs in the provider process after serialization
    const nodeCrypto = require("node:crypto") as typeof import("node:crypto");
    const value = nodeCrypto.randomBytes(inputs.bytes).toString("hex");
    return { id: value.slice(0, 8), outs: { bytes: inputs.bytes, value } };
  },
};

class Token extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string, bytes: number, opts?: pulumi.CustomResourceOptions) {
    super(tokenProvider, name, { bytes, value: undefined }, opts);
  }
}

class Bundle extends pulumi.ComponentResource {
  readonly plain: pulumi.Output<string>;
  readonly hidden: pulumi.Output<string>;
  constructor(name: string) {
    super("odoo-saas:test:Bundle", name, {}, {});
    this.plain = new Token(`${name}-plain`, 16, { parent: this }).value;
    // Secret at the resource, as RandomPassword's result is: the state file then holds ciphertext only.
    this.hidden = new Token(`${name}-hidden`, 16, { parent: this, additionalSecretOutputs: ["value"] }).value;
    this.registerOutputs({ plain: this.plain, hidden: this.hidden });
  }
}

async function program(): Promise<Record<string, pulumi.Output<string>>> {
  const bundle = new Bundle("bundle");
  return { plain: bundle.plain, hidden: bundle.hidden };
}

describe("the real Pulumi engine (Automation API, local backend)", function () {
  this.timeout(180_000);
  const root = repoRoot();
  let tmp: string;
  let location: EngineLocation;
  let stack: Stack;
  let firstOutputs: { plain: string; hidden: string };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-engine-"));
    location = { backendDir: path.join(tmp, "backend"), pulumiHome: path.join(tmp, "home") };
    process.env.PULUMI_CONFIG_PASSPHRASE = "engine-test-passphrase";
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "engine-test", projectName: "odoo-saas-engine-test", program },
      { pulumiCommand: await pulumiCommand(root), envVars: engineEnv(location, root), workDir: workspaceDir(location, "engine-test"),
        projectSettings: { name: "odoo-saas-engine-test", runtime: "nodejs", backend: { url: `file://${location.backendDir}` } } },
    );
  });

  after(async () => {
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("reports the CLI version it was built at (tools/versions.env), not older than the SDK", async () => {
    const version = (await pulumiCommand(root)).version?.toString();
    const pinned = /^PULUMI_VERSION=v(\S+)$/m.exec(fs.readFileSync(path.join(root, "tools", "versions.env"), "utf8"))?.[1];
    expect(version).to.equal(pinned);
    const sdk = (JSON.parse(fs.readFileSync(path.join(root, "node_modules/@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;
    const minor = (v: string): number => Number(v.split(".")[1]);
    expect(minor(version ?? "0.0.0")).to.be.at.least(minor(sdk));
  });

  it("up creates resources with real generated values", async () => {
    const result = await stack.up();
    expect(result.summary.result).to.equal("succeeded");
    expect(result.summary.resourceChanges).to.include({ create: 4 });
    const plain = result.outputs.plain?.value as string;
    const hidden = result.outputs.hidden?.value as string;
    expect(plain).to.match(/^[0-9a-f]{32}$/);
    expect(hidden).to.match(/^[0-9a-f]{32}$/);
    expect(plain).to.not.equal(hidden);
    expect(result.outputs.hidden?.secret).to.equal(true);
    expect(result.outputs.plain?.secret).to.equal(false);
    firstOutputs = { plain, hidden };
  });

  it("keeps secret outputs encrypted in the state file", async () => {
    const stateFile = path.join(location.backendDir, ".pulumi", "stacks", "odoo-saas-engine-test", "engine-test.json");
    const state = fs.readFileSync(stateFile, "utf8");
    expect(state).to.contain(firstOutputs.plain);
    expect(state).to.not.contain(firstOutputs.hidden);
    expect(state).to.contain("ciphertext");
  });

  it("a second up changes nothing", async () => {
    const result = await stack.up();
    expect(result.summary.resourceChanges).to.deep.equal({ same: 4 });
    expect(result.outputs.plain?.value).to.equal(firstOutputs.plain);
    expect(result.outputs.hidden?.value).to.equal(firstOutputs.hidden);
  });

  it("preview after up proposes no change", async () => {
    const result = await stack.preview();
    expect(result.changeSummary).to.deep.equal({ same: 4 });
  });

  it("a state sidecar a killed engine left empty breaks every run until repairStateSidecars removes it", async () => {
    // fileblob writes <stack>.json.attrs in place: a kill between its create and write leaves it empty.
    const sidecar = path.join(location.backendDir, ".pulumi", "stacks", "odoo-saas-engine-test", "engine-test.json.attrs");
    expect(fs.existsSync(sidecar), "the backend keeps a sidecar").to.equal(true);
    fs.writeFileSync(sidecar, "");
    const broken = await stack.preview().then(() => undefined, (err: Error) => err);
    expect(broken?.message).to.match(/failed to load checkpoint: EOF/);
    const lines: string[] = [];
    repairStateSidecars(location, "engine-test", (line) => lines.push(line), "odoo-saas-engine-test");
    expect(lines.join("\n")).to.contain("engine-test.json.attrs");
    expect((await stack.preview()).changeSummary).to.deep.equal({ same: 4 });
  });

  it("refresh works", async () => {
    const result = await stack.refresh();
    expect(result.summary.result).to.equal("succeeded");
  });

  it("destroy removes everything", async () => {
    const result = await stack.destroy();
    expect(result.summary.result).to.equal("succeeded");
    expect(result.summary.resourceChanges).to.include({ delete: 4 });
    const exported = await stack.exportStack();
    expect((exported.deployment as { resources?: unknown[] }).resources ?? []).to.have.length(0);
    await stack.workspace.removeStack("engine-test");
  });

  it("runs this project's program and rejects invalid tenant config before creating anything", async () => {
    const bad = await LocalWorkspace.createOrSelectStack(
      { stackName: "invalid-config", projectName: "odoo-saas", program: async () => odooSaasProgram() },
      { pulumiCommand: await pulumiCommand(root), envVars: engineEnv(location, root), workDir: workspaceDir(location, "invalid-config"),
        projectSettings: { name: "odoo-saas", runtime: "nodejs", backend: { url: `file://${location.backendDir}` } } },
    );
    await bad.setAllConfig({
      "odoo-saas:baseDomain": { value: "odoo-saas.test" },
      "odoo-saas:tenants": { value: JSON.stringify([{ id: "acme", adminEmail: "a@acme.example", plan: "starter" }, { id: "Bad_Id", adminEmail: "nope", plan: "starter" }]) },
    });
    let message = "";
    try {
      await bad.preview();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.contain('tenants[1] (id "Bad_Id"): id:');
    expect(message).to.contain('tenants[1] (id "Bad_Id"): adminEmail: must be an e-mail address');
    const exported = await bad.exportStack();
    expect((exported.deployment as { resources?: unknown[] }).resources ?? []).to.have.length(0);
    await bad.workspace.removeStack("invalid-config");
  });

  it("never writes into the repository's own Pulumi.yaml", () => {
    const project = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
    expect(project).to.contain("name: odoo-saas");
    expect(project).to.not.contain("backend:");
  });
});
