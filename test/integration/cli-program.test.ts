/**
 * `pulumi up` of index.ts from an ops engineer's shell: the Go-built CLI starts a Node.js
 * language host (the project's build here, tools/pulumi-language-nodejs, since Pulumi's
 * cannot be had), which runs the SDK's cmd/run and its ts-node on the TypeScript sources.
 * The same stack is run both ways: what one path applied, the other sees as no change.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { deployStack, previewStack } from "../../automation/engine/deploy";
import { repoRoot, workspaceDir } from "../../automation/engine/engine-env";
import { cliEnvironment, LANGUAGE_HOST, type CliEnvironment } from "../../automation/engine/language-host";
import { openProgramStack } from "../../automation/engine/program-stack";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import type { TenantInput } from "../../tenants/schema";
import { stackConfigMap, stateFile, tempEngine } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";

const STACK = "cli";
const ALPHA = tenant({ id: "alpha" });
const BETA = tenant({ id: "beta", plan: "business" });
const GAMMA = tenant({ id: "gamma" });

interface CliRun {
  code: number | null;
  output: string;
}

describe("pulumi preview/up of index.ts through the CLI and a Node.js language host", function () {
  this.timeout(900_000);
  const root = repoRoot();
  const engine = tempEngine("cli");
  let cluster: LocalCluster;
  let core: k8s.CoreV1Api;
  let cli: CliEnvironment;

  const config = (tenants: TenantInput[]): Record<string, unknown> => stackConfigMap(validConfig(tenants));
  /** The stack's file in its workspace: the inline path writes it; the CLI reads it with --config-file. */
  const stackFile = (): string => path.join(workspaceDir(engine, STACK), `Pulumi.${STACK}.yaml`);
  /** Sets the stack's config the way the inline path does (keeping the passphrase salt). */
  const setConfig = async (tenants: TenantInput[]): Promise<void> => {
    await openProgramStack({ stackName: STACK, engine, kubeconfig: cluster.kubeconfig, config: config(tenants) });
  };

  /**
   * `pulumi <args>` in the repository, as a person runs it, with the engine's environment;
   * preview and up read the stack's config from its workspace file.
   */
  const pulumi = (...args: string[]): Promise<CliRun> => new Promise((resolve, reject) => {
    const configFile = args[0] === "preview" || args[0] === "up" ? ["--config-file", stackFile()] : [];
    const child = spawn(cli.cli, [...args, "--stack", STACK, ...configFile, "--non-interactive"], {
      cwd: root,
      env: { ...process.env, ...cli.env, KUBECONFIG: cluster.kubeconfig },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString("utf8"); });
    child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString("utf8"); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });

  const expectOk = (run: CliRun, what: string): string => {
    if (run.code !== 0) expect.fail(`${what} exited with ${run.code}:\n${run.output}`);
    return run.output;
  };

  before(() => {
    cli = cliEnvironment(engine, root);
    cluster = startLocalCluster(2);
    core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  });
  after(() => {
    cluster?.down();
    fs.rmSync(engine.dir, { recursive: true, force: true });
  });

  it("inline up, then the CLI's preview of index.ts finds no changes (run by the chosen language host)", async () => {
    expect(cli.host.kind, "a Node.js language host: Pulumi's, or the project's build (scripts/build-tools.sh)").not.to.equal("missing");
    const up = await deployStack({ stackName: STACK, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: config([ALPHA, BETA]) });
    if (!up.ok) expect.fail(`inline up: ${up.message}`);
    expect(up.result.summary.resourceChanges?.create).to.be.greaterThan(40);

    const output = expectOk(await pulumi("preview", "--expect-no-changes", "--diff"), "pulumi preview --expect-no-changes");
    const hostPath = cli.host.kind === "built" ? path.join(cli.host.dir, LANGUAGE_HOST) : cli.host.kind === "present" ? cli.host.path : "";
    if (cli.host.kind === "built") expect(output).to.include(`using ${LANGUAGE_HOST} from $PATH at ${hostPath}`);
    expect(output).to.match(/Resources:\s+\d+ unchanged/);
  });

  it("CLI up of a changed config, then the inline preview and up find no changes", async () => {
    await setConfig([ALPHA, BETA, GAMMA]);
    const output = expectOk(await pulumi("up", "--yes", "--skip-preview"), "pulumi up");
    expect(output).to.match(/\+ \d+ created/);
    expect((await core.readNamespace({ name: "tenant-gamma" })).metadata?.labels?.["odoo-saas.io/tenant"]).to.equal("gamma");
    const outputs = JSON.parse(expectOk(await pulumi("stack", "output", "tenants", "--json"), "pulumi stack output")) as Record<string, unknown>;
    expect(Object.keys(outputs).sort()).to.deep.equal(["alpha", "beta", "gamma"]);

    const options = { stackName: STACK, engine, kubeconfig: cluster.kubeconfig, kc: cluster.kc, config: config([ALPHA, BETA, GAMMA]) };
    const preview = await previewStack({ ...options, expectNoChanges: true });
    if (!preview.ok) expect.fail(`inline preview after the CLI's up: ${preview.message}`);
    const again = await deployStack(options);
    if (!again.ok) expect.fail(again.message);
    expect(Object.keys(again.result.summary.resourceChanges ?? {})).to.deep.equal(["same"]);
  });

  it("an invalid stack config fails with the schema's message naming tenant and field; nothing changes", async () => {
    await setConfig([ALPHA, BETA, tenant({ id: "delta", plan: "platinum" })]);
    const before = fs.readFileSync(stateFile(engine, STACK), "utf8");
    for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
      const run = await pulumi(...command);
      expect(run.code, `pulumi ${command.join(" ")}`).not.to.equal(0);
      expect(run.output).to.include("invalid odoo-saas config:");
      expect(run.output).to.match(/tenants\[2\] \(id "delta"\): plan/);
      // The SDK reported the error: the language host bails without adding its own.
      expect(run.output).not.to.include("Program exited with non-zero exit code");
    }
    // A failed update may save the same state again: in another order, with fresh nonces on
    // its secrets, and the stack's registration at the CLI program's source position. Each
    // resource must still be there, otherwise unchanged.
    const metadata = new Set(["sourcePosition", "stackTrace"]);
    const resources = (text: string): Record<string, string> => Object.fromEntries(
      (JSON.parse(text.replace(/"ciphertext": ?"[^"]*"/g, '"ciphertext":"*"')) as { checkpoint: { latest: { resources: Array<{ urn: string }> } } })
        .checkpoint.latest.resources.map((r) => [r.urn, JSON.stringify(r, (key: string, value: unknown) => (metadata.has(key) ? undefined : value))]));
    const was = resources(before);
    const now = resources(fs.readFileSync(stateFile(engine, STACK), "utf8"));
    const changed = Object.keys({ ...was, ...now }).filter((urn) => was[urn] !== now[urn]);
    expect(changed, changed.slice(0, 1).map((urn) => `${urn}:\n${was[urn]}\n${now[urn]}`).join("")).to.deep.equal([]);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).not.to.include("tenant-delta");

    await setConfig([ALPHA, BETA, GAMMA]);
    expectOk(await pulumi("preview", "--expect-no-changes"), "pulumi preview after restoring the config");
  });
});
