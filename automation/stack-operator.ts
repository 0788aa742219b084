/**
 * The one writer of the self-service stack `<opsStack>-selfservice`: a queue of operations
 * (create, suspend, resume, delete) applied by `stack.up` through the Automation API, with
 * the same program and component as `pulumi up`.
 *
 * - Operations are recorded durably (SignupStore) before they are queued; an update takes
 *   every operation queued when it starts (requests arriving during an update are coalesced
 *   into the next one), folds them into the applied tenant list, writes that list as the
 *   stack's `odoo-saas:tenants` (the platform keys are copied from `Pulumi.<opsStack>.yaml`
 *   each time) and runs `up` with continue-on-error.
 * - Each operation gets its own result: engine errors are attributed to tenants by URN
 *   (see engine-events.ts); a failed operation leaves no desired change behind, and a
 *   reconcile update then brings the stack back to the applied state (a failed signup's
 *   partial resources are removed, the stack outputs are registered again).
 * - After a crash (kill -9 mid-update) the next start finds the update marked running:
 *   it cancels the stale lock (`stack.cancel()`), clears pending creates with a refresh,
 *   and queues the interrupted operations again. The desired state is declarative, so
 *   re-running them applies each tenant exactly once.
 *
 * The program is a constructor parameter. Its default is the real `odooSaasProgram`, which
 * reads the `odoo-saas:*` config; tests that inject faults (a tenant that fails, a slow
 * update) pass the stand-in program of test/support/standin-program.ts.
 */
import { CommandError, ConcurrentUpdateError, LocalWorkspace, type OutputMap, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { odooSaasProgram } from "../components/platform";
import { PROJECT_NAME } from "../tenants/config-source";
import type { TenantInput } from "../tenants/schema";
import { formatIssue, parseStackConfig } from "../tenants/validate";
import { defaultEngineLocation, engineEnv, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "./engine-env";
import { UpdateTracker } from "./engine-events";
import { describePlugin, installPlugins, planPlugins } from "./plugins";
import { clearPendingOperations } from "./program-stack";
import type { Logger, Redactor } from "./log";
import type { OperationEvents } from "./operation-events";
import { readOpsStack, TENANTS_KEY } from "./ops-stack";
import type { OperationError, OperationKind, OperationRecord, SignupStore, TenantRecord } from "./signup-store";

export interface StackOperatorOptions {
  store: SignupStore;
  events: OperationEvents;
  /** `Pulumi.<opsStack>.yaml`: platform keys to copy. */
  opsStackFile: string;
  /** The self-service stack's name, `<opsStack>-selfservice`. */
  stackName: string;
  /** Default: the project's own name, so both stacks are stacks of one program. */
  projectName?: string;
  /** Default: the real program (`odooSaasProgram`). */
  program?: PulumiFn;
  engine?: EngineLocation;
  root?: string;
  /** Extra environment for the engine and its plugins. */
  extraEnv?: Record<string, string>;
  log: Logger;
  redactor: Redactor;
  /** How long the first request of a burst waits for others to join its update (default 200 ms). */
  coalesceWindowMs?: number;
}

export interface TenantOutputs {
  url?: string;
  adminLogin?: string;
  adminPassword?: string;
}

interface UpdateOutcome {
  ok: boolean;
  /** Did the engine run (and possibly change the stack)? */
  ran: boolean;
  tenantErrors: Map<string, string[]>;
  /** What the operations of tenants without their own error are told. */
  general: string[];
  generalCode: string;
  /** Details of stack-wide errors, kept on the update record for admins. */
  details: string[];
  tracker?: UpdateTracker;
}

const FAILURE_CODE: Readonly<Record<OperationKind, string>> = {
  create: "provisioning_failed",
  suspend: "suspend_failed",
  resume: "resume_failed",
  delete: "delete_failed",
};

function now(): string {
  return new Date().toISOString();
}

function isLockError(err: unknown): boolean {
  return err instanceof ConcurrentUpdateError || (err instanceof Error && /currently locked|conflict: Another update is currently in progress/i.test(err.message));
}

/** The applied tenant list with the batch's operations folded in, in request order. */
export function desiredTenants(tenants: readonly Readonly<TenantRecord>[], batch: readonly Pick<OperationRecord, "kind" | "tenantId">[]): TenantInput[] {
  const state = new Map(tenants.map((t) => [t.id, { record: t, present: t.state === "active", suspended: t.suspended }]));
  for (const op of batch) {
    const entry = state.get(op.tenantId);
    if (!entry) continue;
    if (op.kind === "create") entry.present = true;
    else if (op.kind === "suspend") entry.suspended = true;
    else if (op.kind === "resume") entry.suspended = false;
    else entry.present = false;
  }
  return [...state.values()]
    .filter((entry) => entry.present)
    .map(({ record, suspended }) => ({
      id: record.id,
      adminEmail: record.adminEmail,
      plan: record.plan,
      odooVersion: record.odooVersion as TenantInput["odooVersion"],
      suspended,
      ownerId: record.ownerId,
    }));
}

export class StackOperator {
  private stack: Stack | undefined;
  private running = false;
  private stopping = false;
  private reconcileNeeded = false;
  private kickTimer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private outputs: Map<string, TenantOutputs> | undefined;
  private readonly projectName: string;
  private readonly engine: EngineLocation;
  private readonly root: string;
  private readonly program: PulumiFn;

  constructor(private readonly options: StackOperatorOptions) {
    this.projectName = options.projectName ?? PROJECT_NAME;
    this.root = options.root ?? repoRoot();
    this.engine = options.engine ?? defaultEngineLocation(this.root);
    this.program = options.program ?? (async () => odooSaasProgram());
  }

  get stackName(): string {
    return this.options.stackName;
  }

  /** Selects (or creates) the stack, recovers from a crash, then runs whatever is queued. */
  async start(): Promise<void> {
    const plugins = planPlugins(this.root, this.engine.pulumiHome);
    for (const source of plugins.sources) this.options.log.log("info", `plugin ${describePlugin(source)}`);
    const envVars = { ...engineEnv(this.engine, this.root, plugins), ...(this.options.extraEnv ?? {}) };
    this.options.redactor.add(envVars.PULUMI_CONFIG_PASSPHRASE);
    this.stack = await LocalWorkspace.createOrSelectStack(
      { stackName: this.options.stackName, projectName: this.projectName, program: this.program },
      {
        pulumiCommand: await pulumiCommand(this.root),
        envVars,
        workDir: workspaceDir(this.engine, this.options.stackName),
        // A new stack's secrets provider (e.g. awskms://...); an existing stack keeps its own (README: "Engine secrets").
        ...(process.env.ODOO_SAAS_SECRETS_PROVIDER ? { secretsProvider: process.env.ODOO_SAAS_SECRETS_PROVIDER } : {}),
        projectSettings: { name: this.projectName, runtime: "nodejs", backend: { url: `file://${this.engine.backendDir}` } },
      },
    );
    await installPlugins(this.stack.workspace, plugins, (line) => this.options.log.log("info", line));
    await this.recover();
    this.kick();
  }

  private requireStack(): Stack {
    if (!this.stack) throw new Error("the stack operator has not started");
    return this.stack;
  }

  /** A previous process died during an update: unlock, clear pending creates, queue again. */
  private async recover(): Promise<void> {
    const { store, events, log } = this.options;
    const interrupted = store.updates().filter((u) => u.result === "running").map((u) => u.id);
    const running = store.operationsWith("running");
    if (interrupted.length === 0 && running.length === 0) return;
    log.log("warn", "the previous server process stopped during a stack update; recovering", { updates: interrupted.join(","), operations: running.length });
    store.mutate((doc) => {
      for (const update of doc.updates) {
        if (update.result === "running") Object.assign(update, { result: "interrupted", finishedAt: now() });
      }
      for (const op of Object.values(doc.operations)) {
        if (op.status === "running") op.status = "queued";
      }
    });
    for (const op of running) {
      events.append(op.id, { type: "recovering", message: "the server restarted during this operation's stack update; it runs again" });
    }
    await this.unlock();
    // What the interrupted update half-did is reconciled by the next update.
    this.reconcileNeeded = true;
  }

  /** Removes a stale lock (killed update) and pending operations left in the state. */
  private async unlock(): Promise<void> {
    const stack = this.requireStack();
    const { log } = this.options;
    try {
      await stack.cancel();
      log.log("info", "cancelled the stack update left by a stopped process", { stack: this.options.stackName });
    } catch {
      log.log("debug", "no stack update to cancel", { stack: this.options.stackName });
    }
    await clearPendingOperations(stack, (line) => log.log("warn", line));
  }

  /** Starts an update soon if there is work and none is running. */
  kick(): void {
    if (this.stopping || !this.stack || this.running || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.current = this.drain();
    }, this.options.coalesceWindowMs ?? 200);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopping) {
        const queued = this.options.store.operationsWith("queued");
        if (queued.length === 0 && !this.reconcileNeeded) break;
        await this.runUpdate(queued);
      }
    } catch (err) {
      this.options.log.log("error", `the update loop stopped: ${(err as Error).message}`);
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when nothing is queued or running (tests, benchmark, shutdown). */
  async idle(): Promise<void> {
    if (!this.running && !this.kickTimer && this.options.store.operationsWith("queued").length === 0 && !this.reconcileNeeded) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Lets a running update finish; queued operations stay in the store for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.kickTimer) clearTimeout(this.kickTimer);
    this.kickTimer = undefined;
    await this.current;
  }

  private async runUpdate(batch: readonly Readonly<OperationRecord>[]): Promise<void> {
    const { store, events, log } = this.options;
    const ops = [...batch];
    const startedAt = now();
    const updateId = store.mutate((doc) => {
      const id = doc.nextUpdateId++;
      doc.updates.push({ id, kind: ops.length > 0 ? "batch" : "reconcile", startedAt, operationIds: ops.map((op) => op.id), result: "running" });
      for (const op of ops) {
        const record = doc.operations[op.id];
        if (!record) continue;
        Object.assign(record, { status: "running", startedAt, updateId: id, attempts: record.attempts + 1 });
      }
      return id;
    });
    const wasReconcile = ops.length === 0;
    this.reconcileNeeded = false;
    for (const op of ops) events.append(op.id, { type: "started", update: updateId, operations: ops.length });
    log.log("info", "stack update started", { update: updateId, operations: ops.length, kind: wasReconcile ? "reconcile" : "batch" });

    let outcome: UpdateOutcome;
    try {
      outcome = await this.apply(ops, updateId);
    } catch (err) {
      // The workspace itself failed (settings not writable, CLI gone, ...): fail the batch
      // rather than leave its operations running forever.
      const message = this.options.redactor.redact((err as Error).message.split("\n")[0] ?? "");
      log.log("error", `stack update could not run: ${message}`, { update: updateId });
      outcome = {
        ok: false, ran: false, tenantErrors: new Map(), generalCode: "update_failed", details: [message],
        general: [`the platform could not apply this change (update #${updateId}); an operator has been notified`],
      };
    }
    const results = new Map<string, OperationError | undefined>();
    for (const op of ops) {
      if (outcome.ok) results.set(op.id, undefined);
      else if (outcome.tenantErrors.has(op.tenantId)) {
        const messages = outcome.tenantErrors.get(op.tenantId) ?? [];
        results.set(op.id, { code: FAILURE_CODE[op.kind], message: messages.join("; ").slice(0, 1_000) });
      } else if (outcome.general.length > 0) {
        results.set(op.id, { code: outcome.generalCode, message: outcome.general.join("; ").slice(0, 1_000) });
      } else {
        results.set(op.id, undefined);
      }
    }
    const failures = [...results.values()].filter((e) => e !== undefined).length;
    const finishedAt = now();
    store.mutate((doc) => {
      for (const op of ops) {
        const record = doc.operations[op.id];
        const tenant = doc.tenants[op.tenantId];
        if (!record) continue;
        const error = results.get(op.id);
        Object.assign(record, { status: error ? "failed" : "succeeded", finishedAt });
        if (error) record.error = error;
        else delete record.error;
        if (!tenant) continue;
        tenant.updatedAt = finishedAt;
        if (error) {
          if (op.kind === "create" && tenant.state === "pending") tenant.state = "failed";
          continue;
        }
        if (op.kind === "create") tenant.state = "active";
        else if (op.kind === "suspend") tenant.suspended = true;
        else if (op.kind === "resume") tenant.suspended = false;
        else Object.assign(tenant, { state: "retired", retiredAt: finishedAt });
      }
      const update = doc.updates.find((u) => u.id === updateId);
      if (update) {
        Object.assign(update, { finishedAt, result: outcome.ok ? "succeeded" : "failed" });
        if (outcome.tracker?.summary) update.changes = outcome.tracker.summary.resourceChanges;
        if (outcome.details.length > 0) update.errors = outcome.details.map((d) => d.slice(0, 1_000));
      }
    });
    for (const op of ops) {
      if (outcome.tracker) {
        events.append(op.id, {
          type: "summary",
          changes: outcome.tracker.changesFor(op.tenantId),
          ...(outcome.tracker.summary ? { durationSeconds: outcome.tracker.summary.durationSeconds } : {}),
        });
      }
      const error = results.get(op.id);
      events.append(op.id, error ? { type: "failed", error } : { type: "succeeded" });
    }
    log.log(outcome.ok ? "info" : "warn", "stack update finished", { update: updateId, result: outcome.ok ? "succeeded" : "failed", failedOperations: failures });
    // A failure may have left half-applied changes (and no stack outputs): converge once more.
    if (!outcome.ok && outcome.ran && !wasReconcile) this.reconcileNeeded = true;
  }

  private async apply(ops: readonly Readonly<OperationRecord>[], updateId: number): Promise<UpdateOutcome> {
    const { store, events, log, redactor } = this.options;
    const stack = this.requireStack();
    const outcome: UpdateOutcome = { ok: false, ran: false, tenantErrors: new Map(), general: [], generalCode: "update_failed", details: [] };

    let opsStack;
    try {
      opsStack = readOpsStack(this.options.opsStackFile);
    } catch (err) {
      log.log("error", `cannot read the ops stack file: ${(err as Error).message}`);
      return {
        ...outcome,
        general: ["the platform configuration cannot be read; an operator has been notified"],
        generalCode: "platform_unavailable",
        details: [redactor.redact((err as Error).message)],
      };
    }
    const tenants = desiredTenants(store.tenants(), ops);
    const parsed = parseStackConfig({ ...opsStack.platformRaw, tenants });
    if (!parsed.ok) {
      for (const issue of parsed.issues) {
        const id = issue.tenant?.id;
        if (id !== undefined) outcome.tenantErrors.set(id, [...(outcome.tenantErrors.get(id) ?? []), `${issue.field}: ${issue.message}`]);
        else {
          log.log("error", `platform config invalid: ${formatIssue(issue)}`);
          outcome.details.push(formatIssue(issue));
        }
      }
      for (const issue of parsed.issues) if (issue.tenant !== undefined) outcome.details.push(formatIssue(issue));
      // Nothing ran: operations without an issue of their own fail too (e.g. the ops stack
      // dropped a plan another self-service tenant uses), and admins see why on the update.
      outcome.general.push("the platform configuration does not fit the instances it runs; an operator has been notified");
      outcome.generalCode = "platform_config_invalid";
      return outcome;
    }

    const settings = await stack.workspace.stackSettings(this.options.stackName).catch(() => ({}));
    await stack.workspace.saveStackSettings(this.options.stackName, {
      ...settings,
      config: { ...opsStack.platformConfig, [TENANTS_KEY]: tenants },
    });

    const tenantIds = new Set([...store.tenants().map((t) => t.id), ...ops.map((op) => op.tenantId)]);
    const opsByTenant = new Map<string, string[]>();
    for (const op of ops) opsByTenant.set(op.tenantId, [...(opsByTenant.get(op.tenantId) ?? []), op.id]);

    for (let attempt = 1; attempt <= 2; attempt++) {
      const tracker = new UpdateTracker(tenantIds, (text) => redactor.redact(text));
      outcome.tracker = tracker;
      outcome.ran = true;
      try {
        const result = await stack.up({
          continueOnError: true,
          message: `signup server update #${updateId}`,
          onEvent: (event) => {
            for (const { tenant, event: progress } of tracker.handle(event)) {
              // Only the tenant's own steps and diagnostics: never another tenant's names.
              if (tenant === undefined) continue;
              for (const opId of opsByTenant.get(tenant) ?? []) events.append(opId, progress);
            }
          },
        });
        this.setOutputs(result.outputs);
        return { ...outcome, ok: true };
      } catch (err) {
        if (attempt === 1 && isLockError(err)) {
          log.log("warn", "the self-service stack is locked; cancelling the stale update and retrying", { update: updateId });
          await this.unlock();
          continue;
        }
        for (const tenant of tracker.tenantsWithErrors()) outcome.tenantErrors.set(tenant, [...tracker.errorsFor(tenant)]);
        const general = tracker.generalErrors();
        const detail = err instanceof CommandError || err instanceof Error ? err.message : String(err);
        log.log("warn", "stack update failed", { update: updateId, detail: detail.slice(-2_000) });
        // Stack-wide errors (a missing plugin, a broken program) are the platform's, not the
        // customer's: operations get a plain message, admins the details on the update record.
        outcome.details.push(...general);
        if (general.length === 0 && outcome.tenantErrors.size === 0) outcome.details.push("the engine failed without diagnostics; see the server log");
        if (general.length > 0 || outcome.tenantErrors.size === 0) {
          outcome.general.push(`the platform could not apply this change (update #${updateId}); an operator has been notified`);
        }
        return outcome;
      }
    }
    return outcome;
  }

  private setOutputs(outputs: OutputMap): void {
    const value = outputs.tenants?.value as Record<string, Record<string, unknown>> | undefined;
    const map = new Map<string, TenantOutputs>();
    for (const [id, summary] of Object.entries(value ?? {})) {
      const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
      const entry: TenantOutputs = {};
      const url = str(summary.url);
      const adminLogin = str(summary.adminLogin);
      const adminPassword = str(summary.adminPassword);
      if (url !== undefined) entry.url = url;
      if (adminLogin !== undefined) entry.adminLogin = adminLogin;
      if (adminPassword !== undefined) {
        entry.adminPassword = adminPassword;
        this.options.redactor.add(adminPassword);
      }
      map.set(id, entry);
    }
    this.outputs = map;
  }

  /** The tenant's stack outputs (url, admin login and password), once an update produced them. */
  async tenantOutputs(id: string): Promise<TenantOutputs | undefined> {
    if (!this.outputs && this.stack) {
      try {
        this.setOutputs(await this.stack.outputs());
      } catch (err) {
        this.options.log.log("warn", `cannot read the stack outputs: ${(err as Error).message.split("\n")[0] ?? ""}`);
        return undefined;
      }
    }
    return this.outputs?.get(id);
  }

  /** Known without a CLI call (for listing URLs). */
  cachedOutputs(id: string): TenantOutputs | undefined {
    return this.outputs?.get(id);
  }
}
