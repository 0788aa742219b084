/**
 * What the HTTP API does, without HTTP: validation through the one tenant schema, ids and
 * hosts reserved by the ops stack, ownership, the per-user limit, durable recording of each
 * request before it is queued, and the views returned to callers.
 *
 * Ownership: a tenant belongs to the `sub` that signed it up. Another user's tenant (or
 * operation) answers 404, exactly as a missing one does. Admins (a claim in app_metadata)
 * see and manage every tenant; the Odoo admin password is for the owner only.
 */
import { StackFileError } from "../tenants/config-source";
import { DEFAULT_ODOO_VERSION, RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_IDS, SUPPORTED_ODOO_VERSIONS, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, tenantIdProblem, type StackConfig } from "../tenants/schema";
import { parseStackConfig, tenantHost } from "../tenants/validate";
import { buildOverview, type AdminOverview, type ClusterAdminReader } from "./admin-overview";
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import type { ClusterObservation, ClusterStatusReader } from "./cluster-status";
import { customerError, type CustomerError } from "./customer-messages";
import { customerStatus, type CustomerStatus } from "./customer-status";
import { planDescription, planDisplayName, storageGigabytes } from "./plan-words";
import type { Logger } from "./log";
import type { OperationEvents } from "./operation-events";
import { readOpsStack, type OpsStackSnapshot } from "./ops-stack";
import { newOperationId, type OperationKind, type OperationRecord, type SignupStore, type TenantRecord } from "./signup-store";
import type { StackOperator } from "./stack-operator";

const CREATE_FIELDS = new Set(["id", "plan", "odooVersion"]);
const PLATFORM_BUSY = "our platform cannot take requests right now; please try again later";

function ownDeletedMessage(id: string): string {
  return `you deleted "${id}"; its data is kept until it is permanently removed, and the name stays with it until then. Choose another name`;
}

function limitMessage(owned: number, limit: number): string {
  return `you have ${owned} instance${owned === 1 ? "" : "s"}, the most one account can have (${limit}); delete one to create another`;
}

export interface TenantView {
  id: string;
  url: string;
  host: string;
  plan: string;
  odooVersion: string;
  suspended: boolean;
  state: TenantRecord["state"];
  /** The one customer-facing status (customer-status.ts). */
  status: CustomerStatus;
  /** Customer words. */
  statusReason: string;
  /** When failed: the reference an administrator looks up (an operation id). */
  reference?: string;
  createdAt: string;
  cluster: { reachable: boolean; reason?: string };
  lastOperation: OperationView | null;
  /** Admins only. */
  ownerId?: string;
  /** Admins only. */
  ownerEmail?: string;
  /** Admins only: the operator's own derivation, with the raw reason. */
  detail?: { status: string; reason: string };
}

export interface OperationView {
  id: string;
  kind: OperationKind;
  tenantId: string;
  status: OperationRecord["status"];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  update: number | null;
  attempts: number;
  /** Customers get the fixed customer message and a reference; administrators the raw one. */
  error: CustomerError | { code: string; message: string } | null;
  events: string;
}

export interface TenantServiceOptions {
  store: SignupStore;
  operator: StackOperator;
  events: OperationEvents;
  cluster: ClusterStatusReader;
  /** Cluster-wide reads for the admin overview; absent when no cluster is configured. */
  admin?: ClusterAdminReader;
  opsStackFile: string;
  /** Tenants (pending or active) one user may have; default 3. */
  tenantLimit: number;
  log: Logger;
}

/** The operation as `audience` may read it: engine text for administrators only. */
export function operationView(op: Readonly<OperationRecord>, audience: "customer" | "admin" = "customer"): OperationView {
  return {
    id: op.id,
    kind: op.kind,
    tenantId: op.tenantId,
    status: op.status,
    createdAt: op.createdAt,
    startedAt: op.startedAt ?? null,
    finishedAt: op.finishedAt ?? null,
    update: op.updateId ?? null,
    attempts: op.attempts,
    error: op.error === undefined ? null : audience === "admin" ? op.error : customerError(op),
    events: `/api/operations/${op.id}/events`,
  };
}

/** Rejects every key the request may not set, naming the first one. */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) {
      throw new ApiError(400, "unknown_field", `unknown field "${key}" (allowed: ${[...allowed].join(", ") || "none"})`, key);
    }
  }
}

export class TenantService {
  constructor(private readonly options: TenantServiceOptions) {}

  private opsStack(): OpsStackSnapshot {
    try {
      return readOpsStack(this.options.opsStackFile);
    } catch (err) {
      if (err instanceof StackFileError) {
        this.options.log.log("error", err.message);
        throw new ApiError(503, "platform_unavailable", PLATFORM_BUSY);
      }
      throw err;
    }
  }

  private platform(): StackConfig {
    const ops = this.opsStack();
    if (!ops.platform.ok) {
      this.options.log.log("error", "the ops stack's platform keys are invalid", { file: ops.file });
      throw new ApiError(503, "platform_config_invalid", PLATFORM_BUSY);
    }
    return ops.platform.config;
  }

  publicConfig(): Record<string, unknown> {
    const config = this.platform();
    return {
      baseDomain: config.baseDomain,
      // Customer words only: a name, a sentence and storage in GB (never Mi/Gi or CPU limits).
      plans: Object.entries(config.plans).map(([name, plan]) => ({
        name,
        displayName: planDisplayName(name, plan),
        description: planDescription(plan),
        storageGb: storageGigabytes(plan),
      })),
      odooVersions: [...SUPPORTED_ODOO_VERSIONS],
      defaultOdooVersion: DEFAULT_ODOO_VERSION,
      tenantLimit: this.options.tenantLimit,
      idRules: {
        // The schema's own rule, for the page's inline validation; the server decides with tenantIdProblem.
        pattern: TENANT_ID_PATTERN.source,
        maxLength: TENANT_ID_MAX_LENGTH,
        reserved: [...RESERVED_TENANT_IDS],
        reservedPrefixes: [...RESERVED_TENANT_ID_PREFIXES],
        description: `lower-case letters, digits and "-", starting with a letter and ending with a letter or digit, at most ${TENANT_ID_MAX_LENGTH} characters`,
      },
    };
  }

  /** Why this id cannot be used (schema rule, or taken), or undefined when it is free. */
  idConflict(id: string, caller?: Caller): { status: 400 | 409; message: string } | undefined {
    const problem = tenantIdProblem(id);
    if (problem) return { status: 400, message: problem };
    const ops = this.opsStack();
    const existing = this.options.store.tenant(id);
    const ownFailed = existing && caller && existing.ownerId === caller.sub && existing.state === "failed";
    if (existing && caller && existing.ownerId === caller.sub && existing.state === "retired") {
      return { status: 409, message: ownDeletedMessage(id) };
    }
    const baseDomain = ops.platform.ok ? ops.platform.config.baseDomain : undefined;
    const hostTaken = baseDomain !== undefined && ops.hosts.has(tenantHost({ baseDomain }, id));
    if ((existing && !ownFailed) || ops.tenantIds.has(id) || hostTaken) {
      return { status: 409, message: `"${id}" is already taken; choose another name` };
    }
    return undefined;
  }

  checkId(caller: Caller, id: string): { id: string; available: boolean; problem?: string } {
    const conflict = this.idConflict(id, caller);
    return conflict ? { id, available: false, problem: conflict.message } : { id, available: true };
  }

  /** POST /api/tenants: validated, recorded durably, queued; the caller gets 202. */
  create(caller: Caller, body: Record<string, unknown>): { tenant: TenantView; operation: OperationView } {
    rejectUnknownFields(body, CREATE_FIELDS);
    if (caller.email === undefined) {
      throw new ApiError(403, "email_required", "your account has no e-mail address; the Odoo administrator login needs one");
    }
    const ops = this.opsStack();
    const input = { ...body, adminEmail: caller.email, ownerId: caller.sub };
    const parsed = parseStackConfig({ ...ops.platformRaw, tenants: [input] });
    if (!parsed.ok) {
      const issue = parsed.issues.find((i) => i.tenant !== undefined);
      if (!issue) {
        this.options.log.log("error", "the ops stack's platform keys are invalid", { file: ops.file });
        throw new ApiError(503, "platform_config_invalid", PLATFORM_BUSY);
      }
      throw new ApiError(400, "invalid_tenant", issue.message, issue.field);
    }
    const tenant = parsed.config.tenants[0];
    if (!tenant) throw new Error("parsed config lost its tenant");
    const conflict = this.idConflict(tenant.id, caller);
    if (conflict) throw new ApiError(conflict.status, conflict.status === 409 ? "id_taken" : "invalid_tenant", conflict.message, "id");

    const at = new Date().toISOString();
    const op: OperationRecord = {
      id: newOperationId(), kind: "create", tenantId: tenant.id, ownerId: caller.sub, requestedBy: caller.sub,
      status: "queued", createdAt: at, attempts: 0,
    };
    // Limit and uniqueness are decided inside the store's mutation: two concurrent requests
    // for one id cannot both pass (the mutation is synchronous and persisted before 202).
    const record = this.options.store.mutate((doc) => {
      const existing = Object.hasOwn(doc.tenants, tenant.id) ? doc.tenants[tenant.id] : undefined;
      if (existing && !(existing.ownerId === caller.sub && existing.state === "failed")) {
        const message = existing.ownerId === caller.sub && existing.state === "retired" ? ownDeletedMessage(tenant.id) : `"${tenant.id}" is already taken; choose another name`;
        throw new ApiError(409, "id_taken", message, "id");
      }
      const owned = Object.values(doc.tenants).filter((t) => t.ownerId === caller.sub && (t.state === "pending" || t.state === "active")).length;
      if (owned >= this.options.tenantLimit) throw new ApiError(403, "tenant_limit", limitMessage(owned, this.options.tenantLimit));
      const created: TenantRecord = {
        id: tenant.id, ownerId: caller.sub, adminEmail: tenant.adminEmail, plan: tenant.plan, odooVersion: tenant.odooVersion,
        suspended: false, state: "pending", createdAt: existing?.createdAt ?? at, updatedAt: at, lastOperationId: op.id,
      };
      doc.tenants[tenant.id] = created;
      doc.operations[op.id] = op;
      return created;
    });
    this.options.events.append(op.id, { type: "queued" });
    this.options.log.log("info", "signup accepted", { tenant: record.id, operation: op.id });
    this.options.operator.kick();
    return { tenant: this.view(caller, record, { reachable: false, reason: "not checked yet" }), operation: operationView(op, caller.isAdmin ? "admin" : "customer") };
  }

  /** The tenant if the caller may see it (owner or admin); otherwise 404, as if missing. */
  private visible(caller: Caller, id: string): Readonly<TenantRecord> {
    const tenant = this.options.store.tenant(id);
    if (!tenant || tenant.state === "retired" || (tenant.ownerId !== caller.sub && !caller.isAdmin)) throw notFound(`tenant "${id}"`);
    return tenant;
  }

  private url(tenant: Readonly<TenantRecord>): { url: string; host: string } {
    const ops = this.opsStack();
    // A broken ops file must not hide the list: fall back to its raw baseDomain.
    const baseDomain = ops.platform.ok ? ops.platform.config.baseDomain : String(ops.platformRaw.baseDomain ?? "");
    const host = tenantHost({ baseDomain }, tenant.id);
    // The component's own URL once the stack reported it; before, the same rule it uses.
    const fromStack = this.options.operator.cachedOutputs(tenant.id)?.url;
    const scheme = ops.platform.ok && ops.platform.config.ingress.clusterIssuer !== undefined ? "https" : "http";
    return { url: fromStack ?? `${scheme}://${host}`, host };
  }

  private view(caller: Caller, tenant: Readonly<TenantRecord>, cluster: ClusterObservation): TenantView {
    const { store } = this.options;
    const last = store.operation(tenant.lastOperationId);
    const pending = store.pendingOperationsOf(tenant.id);
    const derived = customerStatus({ tenant, pending, ...(last ? { lastOperation: last } : {}), cluster });
    const audience = caller.isAdmin ? "admin" : "customer";
    return {
      id: tenant.id,
      ...this.url(tenant),
      plan: tenant.plan,
      odooVersion: tenant.odooVersion,
      suspended: tenant.suspended,
      state: tenant.state,
      status: derived.status,
      statusReason: derived.reason,
      ...(derived.reference !== undefined ? { reference: derived.reference } : {}),
      createdAt: tenant.createdAt,
      // The reason names operator things (kubeconfig, API server): administrators only.
      cluster: cluster.reachable ? { reachable: true } : caller.isAdmin ? { reachable: false, reason: cluster.reason } : { reachable: false },
      lastOperation: last ? operationView(last, audience) : null,
      ...(caller.isAdmin ? { ownerId: tenant.ownerId, ownerEmail: tenant.adminEmail, detail: derived.detail } : {}),
    };
  }

  private async observe(tenant: Readonly<TenantRecord>): Promise<ClusterObservation> {
    // Nothing to read in the cluster before the signup was applied.
    if (tenant.state !== "active") return { reachable: false, reason: "not deployed yet" };
    return this.options.cluster.observe(tenant.id);
  }

  async get(caller: Caller, id: string): Promise<TenantView> {
    const tenant = this.visible(caller, id);
    return this.view(caller, tenant, await this.observe(tenant));
  }

  /** The caller's own instances (administrators too: everyone's are in the admin overview). */
  async list(caller: Caller): Promise<TenantView[]> {
    return this.views(caller, this.options.store.tenants().filter((t) => t.state !== "retired" && t.ownerId === caller.sub));
  }

  /** How many instances the caller has against the limit (pending and active count, as in create). */
  usage(caller: Caller): { used: number; max: number } {
    const used = this.options.store.tenants().filter((t) => t.ownerId === caller.sub && (t.state === "pending" || t.state === "active")).length;
    return { used, max: this.options.tenantLimit };
  }

  private async views(caller: Caller, tenants: readonly Readonly<TenantRecord>[]): Promise<TenantView[]> {
    const views: TenantView[] = [];
    let unreachable: ClusterObservation | undefined;
    // A few cluster reads at a time; once the cluster did not answer, do not wait for it again.
    for (let i = 0; i < tenants.length; i += 8) {
      const chunk = tenants.slice(i, i + 8);
      const observed = await Promise.all(chunk.map((t) => (unreachable && t.state === "active" ? unreachable : this.observe(t))));
      chunk.forEach((t, j) => {
        const observation = observed[j] as ClusterObservation;
        if (!observation.reachable && t.state === "active") unreachable ??= observation;
        views.push(this.view(caller, t, observation));
      });
    }
    return views;
  }

  /** suspend, resume or delete: recorded durably, queued; the caller gets 202. */
  request(caller: Caller, id: string, kind: Exclude<OperationKind, "create">): { tenant: TenantView; operation: OperationView; note?: string } {
    const tenant = this.visible(caller, id);
    const pending = this.options.store.pendingOperationsOf(id);
    if (pending.some((op) => op.kind === "delete")) throw new ApiError(409, "deleting", `"${id}" is being deleted`);
    if (kind !== "delete" && tenant.state === "failed") {
      throw new ApiError(409, "tenant_failed", `"${id}" was never created; try again, or delete it`);
    }
    const last = pending.at(-1);
    const suspended = last?.kind === "suspend" ? true : last?.kind === "resume" ? false : tenant.suspended;
    if (kind === "suspend" && suspended) throw new ApiError(409, "already_suspended", `"${id}" is already suspended`);
    if (kind === "resume" && !suspended) throw new ApiError(409, "not_suspended", `"${id}" is not suspended`);

    const op: OperationRecord = {
      id: newOperationId(), kind, tenantId: id, ownerId: tenant.ownerId, requestedBy: caller.sub,
      status: "queued", createdAt: new Date().toISOString(), attempts: 0,
    };
    const record = this.options.store.mutate((doc) => {
      doc.operations[op.id] = op;
      const t = doc.tenants[id] as TenantRecord;
      t.lastOperationId = op.id;
      t.updatedAt = op.createdAt;
      return t;
    });
    this.options.events.append(op.id, { type: "queued" });
    this.options.log.log("info", `${kind} accepted`, { tenant: id, operation: op.id });
    this.options.operator.kick();
    const view = this.view(caller, record, { reachable: false, reason: "not checked" });
    const operation = operationView(op, caller.isAdmin ? "admin" : "customer");
    if (kind !== "delete") return { tenant: view, operation };
    return {
      tenant: view,
      operation,
      note: `"${id}" is being deleted: it goes offline and leaves your list. Its database, files and backups are kept until they are `
        + "permanently removed, and the name stays with them until then.",
    };
  }

  /** The Odoo admin login and password: owner only (admins and others get 404). */
  async credentials(caller: Caller, id: string): Promise<{ id: string; url: string; login: string; password: string }> {
    const tenant = this.options.store.tenant(id);
    if (!tenant || tenant.ownerId !== caller.sub || tenant.state === "retired") throw notFound(`tenant "${id}"`);
    const outputs = tenant.state === "active" ? await this.options.operator.tenantOutputs(id) : undefined;
    if (outputs?.adminLogin === undefined || outputs.adminPassword === undefined) {
      throw new ApiError(404, "credentials_not_ready", `the credentials of "${id}" do not exist yet; they appear once the instance is created`);
    }
    this.options.log.log("info", "credentials read", { tenant: id });
    return { id, url: outputs.url ?? this.url(tenant).url, login: outputs.adminLogin, password: outputs.adminPassword };
  }

  operation(caller: Caller, id: string): Readonly<OperationRecord> {
    const op = this.options.store.operation(id);
    if (!op || (op.ownerId !== caller.sub && !caller.isAdmin)) throw notFound(`operation "${id}"`);
    return op;
  }

  requireAdmin(caller: Caller): void {
    if (!caller.isAdmin) throw new ApiError(403, "forbidden", "administrators only");
  }

  /** Ids and hosts the self-service stack owns (every state: retired and failed ids stay reserved). */
  adminTenantIds(caller: Caller): { stack: string; ids: string[]; hosts: string[] } {
    this.requireAdmin(caller);
    const config = this.platform();
    const ids = this.options.store.tenants().map((t) => t.id);
    return { stack: this.options.operator.stackName, ids, hosts: ids.map((id) => tenantHost(config, id)) };
  }

  /** Every tenant in the cluster (self-service and pull-request), with node, usage and the distribution. */
  async adminOverview(caller: Caller): Promise<AdminOverview> {
    this.requireAdmin(caller);
    // Every self-service tenant, deleted ones included (the "deleted" filter shows them), owners by e-mail.
    const all = await this.views(caller, this.options.store.tenants());
    const selfService = all.map((t) => ({
      id: t.id, ownerId: t.ownerId ?? "", ownerEmail: t.ownerEmail ?? "", plan: t.plan, status: t.status,
      statusReason: t.detail?.reason ?? t.statusReason, ...(t.reference !== undefined ? { reference: t.reference } : {}),
    }));
    if (this.options.admin === undefined) return buildOverview(selfService, { unreachable: "no cluster configured (KUBECONFIG)" });
    try {
      return buildOverview(selfService, await this.options.admin.snapshot());
    } catch (err) {
      this.options.log.log("warn", "admin overview: cluster not readable", { error: (err as Error).message.split("\n")[0] ?? "" });
      return buildOverview(selfService, { unreachable: "the cluster could not be read; see the server log" });
    }
  }

  adminUpdates(caller: Caller): { updates: unknown[] } {
    this.requireAdmin(caller);
    return { updates: [...this.options.store.updates()].reverse().slice(0, 100) };
  }
}
