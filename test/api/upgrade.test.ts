/**
 * Upgrading a server of the earlier model: its tenants lived in the shared stack
 * `<fleet>-selfservice` and its records in `signups.json`. At the first start on PostgreSQL the
 * server imports the records and moves each tenant into its own stack before any job runs;
 * the owner then reads the same instance (credentials from its new stack, Kubernetes objects
 * untouched) and can change it. Real program, engine and local control plane.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";
import { jsonLogger, Redactor } from "../../automation/log";
import { openProgramStack } from "../../automation/engine/program-stack";
import { startSignupApp, type SignupApp } from "../../automation/signup-app";
import type { OperationView, TenantView } from "../../automation/tenant-views";
import { tenantNames } from "../../components/naming";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";
import { stackConfigMap, stateFile } from "../support/engine-stack";
import { tenant, validConfig } from "../support/fixtures";
import { databaseOf, engineLocation, harnessConfig, QUEUE_TIMINGS, request, userId } from "../support/signup-harness";

describe("upgrade: signups.json and the shared self-service stack, imported and moved at start (real program)", function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let auth: AuthStandIn;
  let dir: string;
  let app: SignupApp | undefined;
  let namespaceUid: string | undefined;
  const logLines: string[] = [];
  const ID = "legacy-shop";

  before(async () => {
    cluster = startLocalCluster(2);
    auth = await startAuthStandIn();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "odoo-saas-upgrade-"));
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), yaml.dump({ config: stackConfigMap(validConfig([])) }));
    // What the earlier server left: its shared stack, applied, and its JSON records.
    const { stack } = await openProgramStack({
      stackName: "dev-selfservice", engine: engineLocation(dir), kubeconfig: cluster.kubeconfig,
      config: stackConfigMap(validConfig([tenant({ id: ID, ownerId: userId("lena"), adminEmail: "lena@example.com" })])),
    });
    expect((await stack.up()).summary.result).to.equal("succeeded");
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    namespaceUid = (await core.readNamespace({ name: tenantNames(ID).namespace })).metadata?.uid;
    const at = "2026-11-20T09:00:00.000Z";
    fs.mkdirSync(path.join(dir, "store"));
    fs.writeFileSync(path.join(dir, "store", "signups.json"), JSON.stringify({
      version: 1, nextUpdateId: 2, updates: [], backupRequests: {},
      tenants: { [ID]: { id: ID, ownerId: userId("lena"), adminEmail: "lena@example.com", plan: "starter", odooVersion: "18.0", suspended: false, state: "active", createdAt: at, updatedAt: at, lastOperationId: "op_legacy1" } },
      operations: { op_legacy1: { id: "op_legacy1", kind: "create", tenantId: ID, ownerId: userId("lena"), requestedBy: userId("lena"), status: "succeeded", createdAt: at, finishedAt: at, attempts: 1 } },
    }));
  });
  after(async () => {
    await app?.close();
    await auth?.close();
    cluster?.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("imports the records, moves the tenant into its own stack, and serves it unchanged", async () => {
    app = await startSignupApp({ ...harnessConfig(dir, auth, ["jwks"], {}, await databaseOf(dir)), kubeconfig: cluster.kubeconfig }, {
      engine: engineLocation(dir),
      queue: QUEUE_TIMINGS,
      log: jsonLogger(new Redactor(), { write: (line) => logLines.push(line) }),
    });
    expect(fs.existsSync(path.join(dir, "store", "signups.json.imported"))).to.equal(true);
    expect(fs.existsSync(stateFile(engineLocation(dir), "dev-selfservice")), "the shared stack is gone").to.equal(false);
    expect(fs.existsSync(stateFile(engineLocation(dir), `dev-tenant-${ID}`)), "the tenant's own stack").to.equal(true);
    expect(logLines.join("")).to.contain("moved the shared self-service stack's tenants into their own stacks");

    const token = await auth.sign({ sub: userId("lena"), email: "lena@example.com" });
    const list = await request<{ tenants: TenantView[] }>(app.url, "GET", "/api/tenants", { token });
    expect(list.body.tenants.map((t) => [t.id, t.state])).to.deep.equal([[ID, "active"]]);
    const creds = await request<{ login: string; password: string }>(app.url, "GET", `/api/tenants/${ID}/credentials`, { token });
    expect(creds.status, creds.text).to.equal(200);
    expect(creds.body.login).to.equal("lena@example.com");

    // Still operable in its new stack, with its Kubernetes objects kept.
    const suspend = await request<{ operation: OperationView }>(app.url, "POST", `/api/tenants/${ID}/suspend`, { token });
    expect(suspend.status, suspend.text).to.equal(202);
    const deadline = Date.now() + 180_000;
    let op: OperationView;
    for (;;) {
      op = (await request<OperationView>(app.url, "GET", `/api/operations/${suspend.body.operation.id}`, { token })).body;
      if (op.status === "succeeded" || op.status === "failed" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(op.status, JSON.stringify(op.error)).to.equal("succeeded");
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const names = tenantNames(ID);
    expect((await apps.readNamespacedDeployment({ name: names.odoo, namespace: names.namespace })).spec?.replicas).to.equal(0);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.readNamespace({ name: names.namespace })).metadata?.uid, "the same namespace").to.equal(namespaceUid);
  });
});
