/**
 * `npm start` (scripts/deploy-local.ts) as a new user runs it, on its own local control plane
 * and engine state: kill -9 of it mid-update leaves no engine process (CLI or plugin) behind;
 * the next run converges; a run with nothing to do says "no changes"; a Deployment deleted by
 * hand is seen by `npm run preview` and made again by `npm start`; after `scripts/local-cluster
 * down` (the cluster recreated, empty) `npm start` creates everything again instead of saying
 * "no changes". Real engine, real program, real control plane, and its real node: each run ends
 * with every tenant's /web/health answering 200 through Traefik by host name (Odoo's pod runs the
 * stand-in, and the output says so).
 */
import { execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { repoRoot } from "../../automation/engine/engine-env";
import { loadKubeConfig } from "../../checks/kube";
import { tempEngine } from "../support/engine-stack";
import { taggedPids } from "../support/processes";

interface Run {
  code: number | null;
  output: string;
}

describe("npm start: the live cluster is the truth, and nothing is left behind", function () {
  this.timeout(900_000);
  const root = repoRoot();
  const engine = tempEngine("npm-start");
  const clusterDir = path.join(engine.dir, "cluster");
  const marker = `npm-start-${crypto.randomUUID()}`;
  const script = path.join(root, "scripts", "local-cluster");
  const clusterEnv = { ...process.env, ODOO_SAAS_CLUSTER_DIR: clusterDir, LOCAL_CLUSTER_NODES: "3", LOCAL_CLUSTER_REAL_NODES: "1" };
  const env = {
    ...clusterEnv,
    ODOO_SAAS_BACKEND_DIR: engine.backendDir,
    ODOO_SAAS_PULUMI_HOME: engine.pulumiHome,
    PULUMI_CONFIG_PASSPHRASE: "npm-start-test-passphrase",
    ODOO_SAAS_TEST_RUN: marker,
  };

  /** `npm start` (its built script); `stopWhen` kills its whole process group (kill -9) once the output matches. */
  const npmStart = (stopWhen?: RegExp, entry = "deploy-local.js", args: string[] = [], extraEnv: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(root, "dist", "scripts", entry), ...args], { env: { ...env, ...extraEnv }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      const take = (chunk: Buffer): void => {
        output += chunk.toString();
        if (stopWhen?.test(output) && child.exitCode === null && child.pid !== undefined) {
          stopWhen = undefined;
          process.kill(-child.pid, "SIGKILL");
        }
      };
      child.stdout?.on("data", take);
      child.stderr?.on("data", take);
      child.once("close", (code) => resolve({ code, output }));
    });

  const kubeApps = (): k8s.AppsV1Api => {
    // The kubeconfig is rewritten when the cluster is recreated: read it each time.
    const kc = loadKubeConfig(path.join(clusterDir, "kubeconfig"));
    return kc.makeApiClient(k8s.AppsV1Api);
  };

  /** Engine processes this test started that are alive (the cluster itself is started without the marker). */
  const leftovers = (): string[] => taggedPids(marker).map((pid) => {
    try {
      return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").slice(0, 120)}`;
    } catch {
      return `${pid} (exited)`;
    }
  });

  async function noLeftovers(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (leftovers().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(), "engine processes left after kill -9").to.deep.equal([]);
  }

  before(() => {
    // The real node's start (images imported, CoreDNS and Traefik Ready) took over 5 minutes on a loaded machine.
    execFileSync(script, ["up"], { env: clusterEnv, stdio: ["ignore", "inherit", "inherit"], timeout: 900_000 });
  });

  after(() => {
    for (const pid of taggedPids(marker)) try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    try { execFileSync(script, ["down"], { env: clusterEnv, stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 }); } catch { /* reported by the tests */ }
    fs.rmSync(engine.dir, { recursive: true, force: true });
  });

  it("kill -9 of npm start mid-update leaves no engine process behind (CLI, Kubernetes and random plugins)", async () => {
    // A create in flight: the engine and its plugins are all running.
    const killed = await npmStart(/\+\s+kubernetes:\S+\s+\S+\s+creating/);
    expect(killed.output, killed.output).to.match(/creating/);
    expect(killed.code).to.equal(null);
    await noLeftovers();
  });

  it("the next npm start converges; one more says no changes, with every resource counted", async () => {
    const converged = await npmStart();
    expect(converged.code, converged.output).to.equal(0);
    expect(converged.output).to.match(/acme\s+acme\.odoo-saas\.test\s+200 \(stand-in\)/);
    expect(converged.output).to.match(/erp\.globex\.example\s+200 \(stand-in\)/);
    expect(converged.output).to.contain("Odoo is a STAND-IN on this machine");
    const again = await npmStart();
    expect(again.code, again.output).to.equal(0);
    expect(again.output).to.match(/no changes: all \d+ resources were already as configured/);
    await noLeftovers(2_000);
  });

  it("a Deployment deleted by hand: npm run preview shows it, npm start makes it again", async () => {
    const apps = kubeApps();
    const deployments = (await apps.listDeploymentForAllNamespaces()).items.filter((d) => d.metadata?.namespace?.startsWith("tenant-"));
    const victim = deployments[0];
    if (!victim?.metadata?.name || !victim.metadata.namespace) throw new Error("no tenant Deployment");
    const { name, namespace } = victim.metadata;
    await apps.deleteNamespacedDeployment({ name, namespace });
    const preview = await npmStart(undefined, "preview.js", ["--stack", "dev"], { KUBECONFIG: path.join(clusterDir, "kubeconfig") });
    expect(preview.output, preview.output).to.match(/### Preview of stack `dev`: changes/);
    const repaired = await npmStart();
    expect(repaired.code, repaired.output).to.equal(0);
    expect(repaired.output).not.to.match(/no changes/);
    expect(repaired.output).to.match(/done in \d+ s: .*1 create/);
    const back = await kubeApps().readNamespacedDeployment({ name, namespace });
    expect(back.metadata?.uid).to.not.equal(victim.metadata.uid);
  });

  it("after scripts/local-cluster down, npm start on the new empty cluster creates everything again", async () => {
    execFileSync(script, ["down"], { env: clusterEnv, stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 });
    const run = await npmStart();
    expect(run.output).not.to.match(/no changes/);
    expect(run.code, run.output).to.equal(0);
    const created = /done in \d+ s: .*?(\d+) create/.exec(run.output);
    expect(Number(created?.[1] ?? 0), run.output).to.be.greaterThan(50);
    const preview = await npmStart(undefined, "preview.js", ["--stack", "dev"], { KUBECONFIG: path.join(clusterDir, "kubeconfig") });
    expect(preview.output, preview.output).to.match(/### Preview of stack `dev`: no changes/);
  });
});
