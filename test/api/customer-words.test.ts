/**
 * What customers read, as pure functions: the one status (customer-status.ts), the fixed
 * failure messages (customer-messages.ts), the progress steps (customer-progress.ts) and
 * plans in GB (plan-words.ts). No engine, no server.
 */
import { expect } from "chai";
import type { ClusterObservation } from "../../automation/cluster-status";
import { CUSTOMER_ERROR_MESSAGES, customerError } from "../../automation/customer-messages";
import { CustomerProgress, stepOf } from "../../automation/customer-progress";
import { customerStatus, type CustomerStatusInput } from "../../automation/customer-status";
import { planDescription, planDisplayName, storageGigabytes } from "../../automation/plan-words";

/** `ready`: the Odoo pod is Ready and its public address answered through the ingress. */
const reachable = (ready: boolean): ClusterObservation => ({ reachable: true, pods: ready ? [{ name: "a-odoo-1", phase: "Running", ready: true, deleting: false }] : [], ...(ready ? { address: { checked: true as const, answered: true as const } } : {}) });
const down: ClusterObservation = { reachable: false, reason: "connect ECONNREFUSED 10.0.0.1:6443" };

function status(partial: Partial<CustomerStatusInput> & { state?: CustomerStatusInput["tenant"]["state"]; suspended?: boolean }): ReturnType<typeof customerStatus> {
  return customerStatus({
    tenant: { state: partial.state ?? "active", suspended: partial.suspended ?? false, lastOperationId: "op_last" },
    pending: partial.pending ?? [],
    ...(partial.lastOperation ? { lastOperation: partial.lastOperation } : {}),
    cluster: partial.cluster ?? reachable(false),
  });
}

describe("customer status (one state machine)", () => {
  it("creating until applied, starting until Odoo is observed answering, then ready", () => {
    expect(status({ state: "pending", pending: [{ kind: "create" }], cluster: down }).status).to.equal("creating");
    expect(status({ cluster: reachable(false) }).status).to.equal("starting");
    expect(status({ cluster: reachable(true) }).status).to.equal("ready");
  });

  it("a Ready pod whose address does not answer through the ingress is starting; one that could not be checked is unknown", () => {
    const pods = [{ name: "a-odoo-1", phase: "Running", ready: true, deleting: false }];
    const silent = status({ cluster: { reachable: true, pods, address: { checked: true, answered: false, reason: "a.odoo-saas.test answered HTTP 404 through the ingress" } } });
    expect(silent.status).to.equal("starting");
    expect(silent.reason).to.equal("Odoo is starting. It is ready once it answers.");
    const unchecked = status({ cluster: { reachable: true, pods, address: { checked: false, reason: "the ingress did not answer" } } });
    expect(unchecked.status).to.equal("unknown");
    expect(unchecked.detail.reason).to.match(/unknown, because the ingress did not answer$/);
  });

  it("never ready without an observation: unknown, and the raw reason only in the detail", () => {
    const s = status({ cluster: down, lastOperation: { id: "op_1", kind: "create", status: "succeeded" } });
    expect(s.status).to.equal("unknown");
    expect(s.reason).to.equal("We cannot check on your instance right now.");
    expect(s.detail.reason).to.equal("readiness not observed: connect ECONNREFUSED 10.0.0.1:6443");
  });

  it("suspended, resuming (starting), deleting, deleted", () => {
    expect(status({ suspended: true }).status).to.equal("suspended");
    expect(status({ suspended: true, pending: [{ kind: "resume" }] }).status).to.equal("starting");
    expect(status({ pending: [{ kind: "delete" }], cluster: reachable(true) }).status).to.equal("deleting");
    expect(status({ state: "retired" }).status).to.equal("deleted");
  });

  it("failed with the fixed message and the operation as reference; the engine text stays in the detail", () => {
    const s = status({ state: "failed", lastOperation: { id: "op_9", kind: "create", status: "failed", error: { code: "provisioning_failed", message: "resource x-odoo failed: quota" } } });
    expect(s).to.deep.include({ status: "failed", reason: CUSTOMER_ERROR_MESSAGES[0], reference: "op_9" });
    expect(s.detail.reason).to.contain("quota");
    const stuck = status({ cluster: { reachable: true, pods: [{ name: "a-odoo-1", phase: "Pending", ready: false, deleting: false, waitingReason: "CrashLoopBackOff" }] } });
    expect(stuck).to.deep.include({ status: "failed", reason: "Odoo could not start. Your data is safe." });
  });
});

describe("customer failure messages", () => {
  it("come from the fixed set whatever the engine said, with the operation id as reference", () => {
    for (const kind of ["create", "suspend", "resume", "delete"] as const) {
      for (const code of ["provisioning_failed", "update_failed", "platform_config_invalid", "anything"]) {
        const e = customerError({ id: "op_x", kind, error: { code, message: "stack frames, tenant-x namespace, pulumi-resource-kubernetes" } });
        expect(CUSTOMER_ERROR_MESSAGES).to.include(e.message);
        expect(e).to.include({ code, reference: "op_x" });
      }
    }
    expect(CUSTOMER_ERROR_MESSAGES.join(" ")).to.not.match(/operator has been notified|namespace|stack/);
  });

  it("a create refused because the name's data is kept says the name is taken", () => {
    expect(customerError({ id: "op_x", kind: "create", error: { code: "id_taken", message: "namespace tenant-x already exists outside this tenant's stack" } }).message)
      .to.equal("This name is taken: data kept under it has not been removed. Choose another name.");
  });
});

describe("customer progress", () => {
  it("maps the component's resources to steps", () => {
    expect(stepOf("kubernetes:core/v1:Namespace", "acme-namespace")).to.equal("space");
    expect(stepOf("kubernetes:apps/v1:StatefulSet", "acme-postgres")).to.equal("database");
    expect(stepOf("kubernetes:core/v1:PersistentVolumeClaim", "acme-backups")).to.equal("backups");
    expect(stepOf("kubernetes:core/v1:Service", "acme-postgres-service")).to.equal("database");
    expect(stepOf("kubernetes:apps/v1:Deployment", "acme-odoo")).to.equal("odoo");
    expect(stepOf("kubernetes:core/v1:ConfigMap", "acme-postgres-setup")).to.equal("database");
    expect(stepOf("kubernetes:core/v1:ConfigMap", "acme-odoo-init")).to.equal("odoo");
    expect(stepOf("kubernetes:networking.k8s.io/v1:Ingress", "acme-ingress")).to.equal("address");
    expect(stepOf("random:index/randomPassword:RandomPassword", "acme-db-password")).to.equal("security");
  });

  it("reports each step once, finished when all its resources are, and drops engine text", () => {
    const p = new CustomerProgress({ id: "op_1", kind: "create" });
    const step = (status: "started" | "finished", resource: string, kind: string) => p.convert({ type: "step", status, op: "create", resource, kind });
    expect(step("started", "acme-postgres", "kubernetes:apps/v1:StatefulSet")).to.deep.equal([{ type: "step", step: "database", label: "Preparing your database", status: "started" }]);
    expect(step("started", "acme-postgres-service", "kubernetes:core/v1:Service")).to.deep.equal([]);
    expect(step("finished", "acme-postgres", "kubernetes:apps/v1:StatefulSet")).to.deep.equal([]);
    expect(step("finished", "acme-postgres-service", "kubernetes:core/v1:Service")).to.deep.equal([{ type: "step", step: "database", label: "Preparing your database", status: "finished" }]);
    expect(p.convert({ type: "diagnostic", severity: "error", message: "acme-odoo: quota exceeded" })).to.deep.equal([]);
    expect(p.convert({ type: "started", attempt: 2 })).to.deep.equal([{ type: "started" }]);
    expect(p.convert({ type: "retrying", attempt: 1, error: { code: "stack_locked", message: "engine text" } })).to.deep.equal([
      { type: "retrying", message: "This is taking longer than usual; we try again in a moment." },
    ]);
    expect(p.convert({ type: "failed", error: { code: "provisioning_failed", message: "raw" } })).to.deep.equal([
      { type: "failed", error: { code: "provisioning_failed", message: CUSTOMER_ERROR_MESSAGES[0], reference: "op_1" } },
    ]);
  });
});

describe("plans in customer words", () => {
  const plan = { workers: 0, databaseStorage: "5Gi", filestoreStorage: "5Gi" };
  it("derives a display name and a description unless the config gives them; storage in whole GB, rounded down", () => {
    expect(planDisplayName("business-plus", {})).to.equal("Business plus");
    expect(planDisplayName("starter", { displayName: "Solo" })).to.equal("Solo");
    expect(planDescription(plan)).to.equal("For getting started and small teams.");
    expect(planDescription({ ...plan, description: "Ours" })).to.equal("Ours");
    expect(storageGigabytes(plan)).to.equal(10);
    expect(storageGigabytes({ databaseStorage: "20Gi", filestoreStorage: "20Gi" })).to.equal(42);
  });
});
