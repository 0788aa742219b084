/**
 * What the HTTP API does for customers, without HTTP: validation through the one tenant
 * schema, ids and hosts reserved by the fleet stack, ownership, the per-user limit, each
 * request recorded, decided and queued in one database transaction, and the views returned.
 *
 * Ownership (tenant-access.ts, the one rule): a tenant belongs to the `sub` that signed it up.
 * Another user's tenant (or operation) answers 404, exactly as a missing one does. Admins see
 * and manage every tenant; the Odoo admin password is for the owner only.
 */
import { DEFAULT_ODOO_VERSION, RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_IDS, SUPPORTED_ODOO_VERSIONS, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, tenantIdProblem } from "../tenants/schema";
import { parseStackConfig } from "../tenants/validate";
import { ApiError, notFound } from "./api-error";
import type { Caller } from "./auth";
import { CredentialsCache } from "./credentials-cache";
import type { Logger } from "./log";
import type { OperationRunner } from "./operation-runner";
import { PLATFORM_BUSY, type FleetPlatform } from "./fleet-platform";
import { BACKUPS_PER_DAY } from "./backup-service";
import { planDescription, planDisplayName, planFacts, storageGigabytes } from "./plan-words";
import type { RateLimits } from "./rate-limits";
import type { RecordsStore } from "./records/records-store";
import { DEFAULT_STORAGE_LIMIT_GB, HOLDS_STORAGE, planStorageBytes, storageLimitProblem, storageUse, type StorageUse } from "./storage-limit";
import { newOperationId, type OperationKind, type OperationRecord, type TenantRecord } from "./records/types";
import { audienceOf, maySeeTenant, TenantAccess } from "./tenant-access";
import type { TenantNamespaces } from "./tenant-namespace";
import { operationView, type OperationView, type TenantView, type TenantViews } from "./tenant-views";

const CREATE_FIELDS = new Set(["id", "plan", "odooVersion"]);

function ownDeletedMessage(id: string): string {
  return `you deleted "${id}"; its data is kept until it is permanently removed, and the name stays with it until then. Choose another name`;
}

function takenMessage(id: string): string {
  return `"${id}" is already taken; choose another name`;
}

function limitMessage(owned: number, limit: number): string {
  return `you have ${owned} instance${owned === 1 ? "" : "s"}, the most one account can have (${limit}); delete one to create another`;
}

/** A recorded tenant blocks the id, except its owner's own failed signup (tried again under the same name). */
function recordConflict(existing: Readonly<TenantRecord> | undefined, caller: Caller): string | undefined {
  if (!existing || (existing.ownerId === caller.sub && existing.state === "failed")) return undefined;
  return existing.ownerId === caller.sub && existing.state === "retired" ? ownDeletedMessage(existing.id) : takenMessage(existing.id);
}

export interface TenantServiceOptions {
  records: RecordsStore;
  views: TenantViews;
  platform: FleetPlatform;
  runner: OperationRunner;
  /** Tenants (pending or active) one user may have; default 3. */
  tenantLimit: number;
  /**
   * GB of plan storage one user's instances may hold, deleted-but-kept ones included
   * (storage-limit.ts); default DEFAULT_STORAGE_LIMIT_GB.
   */
  storageLimitGb?: number;
  /** The cluster's `tenant-<id>` namespaces (tenant-namespace.ts); none: not checked at signup. */
  namespaces?: TenantNamespaces;
  log: Logger;
  /** Bounds suspend/resume and credentials per user and per tenant (rate-limits.ts); absent: unbounded. */
  limits?: RateLimits;
  /** The deployment cannot serve real Odoo (a simulated cluster): customers are told. */
  demo?: boolean;
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
  private readonly credentialsCache: CredentialsCache;
  private readonly access: TenantAccess;

  constructor(private readonly options: TenantServiceOptions) {
    this.credentialsCache = new CredentialsCache((id) => options.runner.credentials(id));
    this.access = new TenantAccess(options.records);
  }

  publicConfig(): Record<string, unknown> {
    const config = this.options.platform.config();
    return {
      baseDomain: config.baseDomain,
      // Customer words only: a name, a sentence and storage in GB (never Mi/Gi or CPU limits).
      plans: Object.entries(config.plans).map(([name, plan]) => ({
        name,
        displayName: planDisplayName(name, plan),
        description: planDescription(plan),
        storageGb: storageGigabytes(plan),
        ...planFacts(plan, BACKUPS_PER_DAY),
      })),
      // The deployment cannot serve real Odoo (ODOO_SAAS_DEMO): the page shows a demo notice.
      demo: this.options.demo === true,
      odooVersions: [...SUPPORTED_ODOO_VERSIONS],
      defaultOdooVersion: DEFAULT_ODOO_VERSION,
      tenantLimit: this.options.tenantLimit,
      storageLimitGb: this.options.storageLimitGb ?? DEFAULT_STORAGE_LIMIT_GB,
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

  /** Why this id cannot be used (schema rule, the fleet stack's ids and hosts), without the records. */
  private fleetConflict(id: string): { status: 400 | 409; message: string } | undefined {
    const problem = tenantIdProblem(id);
    if (problem) return { status: 400, message: problem };
    return this.options.platform.takenByFleetTenant(id) ? { status: 409, message: takenMessage(id) } : undefined;
  }

  /**
   * An existing `tenant-<id>` namespace is someone's kept data (a retired tenant, or a purge
   * still finishing): the name is taken. The owner's own failed signup is left to the runner,
   * which knows whether that namespace is its own stack's. Unreadable: the runner checks.
   */
  private async namespaceConflict(caller: Caller, existing: Readonly<TenantRecord> | undefined, id: string): Promise<string | undefined> {
    const { namespaces } = this.options;
    if (namespaces === undefined || (existing?.ownerId === caller.sub && existing.state === "failed")) return undefined;
    const reading = await namespaces.read(id);
    if (reading.state === "unknown") this.options.log.log("warn", "signup: the tenant's namespace could not be read; the runner checks it before creating", { tenant: id, reason: reading.reason });
    return reading.state === "present" || reading.state === "terminating" ? takenMessage(id) : undefined;
  }

  async checkId(caller: Caller, id: string): Promise<{ id: string; available: boolean; problem?: string }> {
    const fleet = this.fleetConflict(id)?.message;
    const existing = fleet === undefined ? await this.options.records.tenant(id) : undefined;
    const problem = fleet ?? recordConflict(existing, caller) ?? await this.namespaceConflict(caller, existing, id);
    return problem !== undefined ? { id, available: false, problem } : { id, available: true };
  }

  /** POST /api/tenants: validated, then recorded and queued in one transaction; the caller gets 202. */
  async create(caller: Caller, body: Record<string, unknown>): Promise<{ tenant: TenantView; operation: OperationView }> {
    rejectUnknownFields(body, CREATE_FIELDS);
    if (caller.email === undefined) {
      throw new ApiError(403, "email_required", "your account has no e-mail address; the Odoo administrator login needs one");
    }
    const fleet = this.options.platform.snapshot();
    const parsed = parseStackConfig({ ...fleet.platformRaw, tenants: [{ ...body, adminEmail: caller.email, ownerId: caller.sub }] });
    if (!parsed.ok) {
      const issue = parsed.issues.find((i) => i.tenant !== undefined);
      if (!issue) {
        this.options.log.log("error", "the fleet stack's platform keys are invalid", { file: fleet.file });
        throw new ApiError(503, "platform_config_invalid", PLATFORM_BUSY);
      }
      throw new ApiError(400, "invalid_tenant", issue.message, issue.field);
    }
    const input = parsed.config.tenants[0];
    if (!input) throw new Error("parsed config lost its tenant");
    const { plans } = parsed.config;
    const plan = Object.hasOwn(plans, input.plan) ? plans[input.plan] : undefined;
    if (!plan) throw new Error("parsed config lost its plan");
    const conflict = this.fleetConflict(input.id);
    if (conflict) throw new ApiError(conflict.status, conflict.status === 409 ? "id_taken" : "invalid_tenant", conflict.message, "id");
    const kept = await this.namespaceConflict(caller, await this.options.records.tenant(input.id), input.id);
    if (kept !== undefined) throw new ApiError(409, "id_taken", kept, "id");

    const at = new Date().toISOString();
    const op: OperationRecord = {
      id: newOperationId(), kind: "create", tenantId: input.id, ownerId: caller.sub, requestedBy: caller.sub,
      status: "queued", createdAt: at, attempts: 0,
    };
    const wanted: TenantRecord = {
      id: input.id, ownerId: caller.sub, adminEmail: input.adminEmail, plan: input.plan, odooVersion: input.odooVersion,
      suspended: false, state: "pending", createdAt: at, updatedAt: at, lastOperationId: op.id,
      storageBytes: Math.ceil(planStorageBytes(plan)),
    };
    const storageLimitGb = this.options.storageLimitGb ?? DEFAULT_STORAGE_LIMIT_GB;
    // Uniqueness and the limit are decided inside the transaction, under the owner's and the id's locks.
    const record = await this.options.records.createSignup(wanted, op, (existing, owned, holding) => {
      const taken = recordConflict(existing, caller);
      if (taken !== undefined) throw new ApiError(409, "id_taken", taken, "id");
      if (owned >= this.options.tenantLimit) throw new ApiError(403, "tenant_limit", limitMessage(owned, this.options.tenantLimit));
      const use = storageUse(holding.filter((t) => t.id !== wanted.id), plans, storageLimitGb);
      const tooBig = storageLimitProblem(use, input.plan, plans);
      if (tooBig !== undefined) throw new ApiError(403, "storage_limit", tooBig);
    });
    this.options.log.log("info", "signup accepted", { tenant: record.id, operation: op.id });
    return { tenant: await this.options.views.one(caller, record, false), operation: operationView(op, audienceOf(caller)) };
  }

  async get(caller: Caller, id: string): Promise<TenantView> {
    return this.options.views.one(caller, await this.access.tenant(caller, id));
  }

  /** The caller's own instances (administrators too: everyone's are in the admin overview). */
  async list(caller: Caller): Promise<TenantView[]> {
    const own = (await this.options.records.tenants(caller.sub)).filter((t) => t.state !== "retired");
    return this.options.views.many(caller, own);
  }

  /**
   * How many instances the caller has against the limit (pending and active count, as in
   * create), and the storage they hold against the storage limit (deleted-but-kept included).
   */
  async usage(caller: Caller): Promise<{ used: number; max: number; storage?: StorageUse }> {
    const used = await this.options.records.ownedCount(caller.sub);
    const fleet = this.options.platform.snapshot();
    if (!fleet.platform.ok) return { used, max: this.options.tenantLimit };
    const holding = (await this.options.records.tenants(caller.sub)).filter((t) => HOLDS_STORAGE.has(t.state));
    const storage = storageUse(holding, fleet.platform.config.plans, this.options.storageLimitGb ?? DEFAULT_STORAGE_LIMIT_GB);
    return { used, max: this.options.tenantLimit, storage };
  }

  /** suspend, resume or delete: decided, recorded and queued in one transaction; the caller gets 202. */
  async request(caller: Caller, id: string, kind: Exclude<OperationKind, "create">): Promise<{ tenant: TenantView; operation: OperationView; note?: string }> {
    const visible = await this.access.tenant(caller, id);
    const op: OperationRecord = {
      id: newOperationId(), kind, tenantId: id, ownerId: visible.ownerId, requestedBy: caller.sub,
      status: "queued", createdAt: new Date().toISOString(), attempts: 0,
    };
    // Each suspend or resume is an engine run: bounded per user and per tenant; given back if refused below.
    const giveBack = kind !== "delete" && this.options.limits ? await this.options.limits.take("suspend-resume", caller, id) : undefined;
    const record = await this.options.records.request(op, (tenant, pending) => {
      // The rule again, under the tenant's lock: a delete that finished meanwhile is 404.
      if (!maySeeTenant(caller, tenant)) throw notFound(`tenant "${id}"`);
      if (pending.some((p) => p.kind === "delete")) throw new ApiError(409, "deleting", `"${id}" is being deleted`);
      if (kind !== "delete" && tenant.state === "failed") throw new ApiError(409, "tenant_failed", `"${id}" was never created; try again, or delete it`);
      const last = pending.at(-1);
      const suspended = last?.kind === "suspend" ? true : last?.kind === "resume" ? false : tenant.suspended;
      if (kind === "suspend" && suspended) throw new ApiError(409, "already_suspended", `"${id}" is already suspended`);
      if (kind === "resume" && !suspended) throw new ApiError(409, "not_suspended", `"${id}" is not suspended`);
    }).catch(async (err: unknown) => {
      await giveBack?.();
      throw err;
    });
    this.options.log.log("info", `${kind} accepted`, { tenant: id, operation: op.id });
    const tenant = await this.options.views.one(caller, record, false);
    const operation = operationView(op, audienceOf(caller));
    if (kind !== "delete") return { tenant, operation };
    return {
      tenant,
      operation,
      note: `"${id}" is being deleted: it goes offline and leaves your list. Its database, files and backups are kept until they are `
        + "permanently removed, and the name stays with them until then.",
    };
  }

  /**
   * The Odoo admin login and password, read from the tenant's own stack once per applied
   * operation (CredentialsCache): owner only (admins and others get 404); rate-limited.
   */
  async credentials(caller: Caller, id: string): Promise<{ id: string; url: string; login: string; password: string }> {
    const tenant = await this.access.tenant(caller, id, { ownerOnly: true });
    const giveBack = tenant.state === "active" && this.options.limits ? await this.options.limits.take("credentials", caller, id) : undefined;
    const found = tenant.state === "active" ? await this.credentialsCache.get(tenant).catch(async (err: unknown) => {
      await giveBack?.();
      throw err;
    }) : undefined;
    if (found === undefined) {
      await giveBack?.();
      throw new ApiError(404, "credentials_not_ready", `the credentials of "${id}" do not exist yet; they appear once the instance is created`);
    }
    this.options.log.log("info", "credentials read", { tenant: id });
    return { id, url: found.url, login: found.login, password: found.password };
  }

  operation(caller: Caller, id: string): Promise<OperationRecord> {
    return this.access.operation(caller, id);
  }
}
