/**
 * The real OperationRunner: applies one operation to the tenant's own stack through the
 * engine (automation/engine/tenant-stacks.ts). A signup costs one small stack update, whatever the
 * number of tenants; a tenant's failure or hostile value cannot reach another tenant's update.
 *
 * - create/resume/suspend: `up` with this tenant in the config; delete: `up` with no tenant,
 *   which retires it (namespace, volumes and database secrets are retainOnDelete: data kept).
 * - One engine per stack: the stack's lock (stack-lock.ts, a PostgreSQL session lock across
 *   servers) is held for the whole run; when it cannot be taken the operation is tried again
 *   later, and when its connection is lost the stack's engine is ended (engine-command.ts).
 * - A Pulumi lock found while holding that lock is handled by the one recovery policy
 *   (open-stack.ts): only a dead engine's lock is removed, never a live one's; a retry also
 *   clears the pending operations.
 * - A failed create is rolled back (its partial objects removed) so the stack converges.
 * - Before a create, a `tenant-<id>` namespace its own stack did not make is refused (someone's
 *   kept data: tenant-namespace.ts), and a rolled-back create deletes the namespace it made.
 * - Every update refreshes from the cluster first: objects deleted by hand, or a recreated
 *   cluster, are found and made again.
 */
import { performance } from "node:perf_hooks";
import { CommandError, type OutputMap, type Stack } from "@pulumi/pulumi/automation";
import { formatIssue, parseStackConfig } from "../../tenants/validate";
import { UpdateTracker } from "./engine-events";
import { EnginePhases } from "./engine-phases";
import { upFromEvents } from "./up-from-events";
import { bindStack, phasesObserved, PhaseTimer } from "./phase-timer";
import { watchStateWrites } from "./state-writes";
import { stateFolder, stateHasResources } from "./state-file";
import type { Logger, Redactor } from "../log";
import type { AppliedOutputs, OperationRun, OperationRunner, RunResult } from "../operation-runner";
import { readFleetStack, type FleetStackSnapshot } from "../fleet-stack";
import { endEngines } from "./engine-command";
import { recoverStack, releaseDeadLocks, type RecoveryOptions } from "./open-stack";
import { FAILURE_CODE, isLockError, tenantAfter, tenantOutput, text, TRANSIENT } from "./tenant-stack-rules";
import { checkBeforeCreate, KubeTenantNamespaces, namespaceInState } from "../tenant-namespace";
import { ProcessStackLocks, type StackLease, type StackLockProvider } from "./stack-lock";
import { TenantStacks, type TenantStacksOptions } from "./tenant-stacks";
import { tenantNames } from "../../components/naming";
import { loadKubeConfig } from "../../checks/kube";

export interface TenantStackRunnerOptions extends Omit<TenantStacksOptions, "progress"> {
  /** `Pulumi.<fleetStack>.yaml`: the platform keys every tenant stack copies. */
  fleetStackFile: string;
  log: Logger;
  redactor: Redactor;
  /** One engine per stack; default: within this process only (no database). */
  locks?: StackLockProvider;
}

/** How long a rollback waits for the namespace it deletes to be gone (a retry waits for the rest). */
const ROLLBACK_NAMESPACE_MS = 120_000;

export class TenantStackRunner implements OperationRunner {
  readonly stacks: TenantStacks;
  private clusterNamespaces: KubeTenantNamespaces | undefined;
  readonly locks: StackLockProvider;
  /** The leases of the runs in progress, by stack name. */
  private readonly leases = new Map<string, StackLease>();

  constructor(private readonly options: TenantStackRunnerOptions) {
    this.stacks = new TenantStacks({ ...options, progress: (line) => options.log.log("info", line) });
    this.locks = options.locks ?? new ProcessStackLocks();
    options.redactor.add(this.stacks.envVars.PULUMI_CONFIG_PASSPHRASE);
  }

  /**
   * `work` while holding the stack's lock; undefined (nothing run) when another engine holds
   * it. When the lock is lost meanwhile, the stack's engines are ended at once.
   */
  async exclusive<T>(tenantId: string, work: (lease: StackLease) => Promise<T>): Promise<T | undefined> {
    const stackName = this.stacks.stackName(tenantId);
    const lease = await this.locks.tryAcquire(stackName, (reason) => {
      const ended = endEngines(stackName, `the stack's lock was lost: ${reason}`);
      this.options.log.log("error", "the tenant stack's lock was lost; its engine is ended", { stack: stackName, reason, engines: ended });
    });
    if (!lease) return undefined;
    this.leases.set(stackName, lease);
    try {
      return await work(lease);
    } finally {
      this.leases.delete(stackName);
      await lease.release();
    }
  }

  async run(run: OperationRun): Promise<RunResult> {
    const code = FAILURE_CODE.get(run.operation.kind) ?? "operation_failed";
    const retry = (detail: string, errorCode = "stack_locked"): RunResult => ({ ok: false, retryable: true, details: [detail], error: { code: errorCode, message: "the platform could not apply this change yet; it is tried again" } });
    let result: RunResult | undefined;
    const timer = new PhaseTimer(run.operation.id);
    const locking = performance.now();
    try {
      result = await this.exclusive(run.tenant.id, async (lease) => {
        timer.record("stack lock", locking);
        const unbind = bindStack(this.stacks.stackName(run.tenant.id), timer);
        const outcome = await this.runLocked(run, timer).finally(unbind);
        // A failure after the lock was lost is the engine's end, not the change's.
        return !outcome.ok && lease.lost !== undefined ? retry(`the stack's lock was lost: ${lease.lost}`) : outcome;
      });
    } catch (err) {
      this.options.log.log("warn", `the tenant stack's lock could not be taken: ${(err as Error).message}`, { tenant: run.tenant.id });
      return retry("the stack's lock could not be taken (its database did not answer)", code);
    }
    if (result === undefined) {
      this.options.log.log("warn", "the tenant stack is in use by another engine; the operation is tried again later", { tenant: run.tenant.id });
      return retry("another engine runs on this tenant's stack");
    }
    return result;
  }

  stackNameOf(tenantId: string): string {
    return this.stacks.stackName(tenantId);
  }

  private async runLocked(run: OperationRun, timer: PhaseTimer): Promise<RunResult> {
    const { operation, tenant } = run;
    const code = FAILURE_CODE.get(operation.kind) ?? "operation_failed";
    const reading = performance.now();
    let ops: FleetStackSnapshot;
    try {
      ops = readFleetStack(this.options.fleetStackFile);
    } catch (err) {
      this.options.log.log("error", `cannot read the fleet stack file: ${(err as Error).message}`);
      return { ok: false, retryable: true, error: { code: "platform_unavailable", message: "the platform configuration cannot be read; an operator has been notified" } };
    }
    const desired = tenantAfter(tenant, operation.kind);
    // The one schema decides, before the engine runs: a refusal changes nothing.
    const parsed = parseStackConfig({ ...ops.platformRaw, tenants: desired ? [desired] : [] });
    if (!parsed.ok) {
      const issues = parsed.issues.map(formatIssue);
      const own = parsed.issues.filter((i) => i.tenant !== undefined).map((i) => `${i.field}: ${i.message}`);
      this.options.log.log("error", "the tenant's config does not fit the platform", { tenant: tenant.id, issues: issues.join("; ") });
      return {
        ok: false, retryable: false, details: issues,
        error: own.length > 0 ? { code, message: own.join("; ").slice(0, 1_000) } : { code: "platform_config_invalid", message: "the platform configuration does not fit this instance; an operator has been notified" },
      };
    }
    timer.record("platform config read", reading);

    let stack: Stack;
    try {
      // A create may follow a purge by another process, which removed the stack this process
      // has open: it is opened (or made) again. Creates are once per tenant, so this is cheap.
      if (operation.kind === "create") this.stacks.forget(tenant.id);
      stack = await timer.time("workspace and stack selection", () => this.stacks.stack(tenant.id));
      if (run.attempt > 1) await timer.time("recovery", () => this.recover(stack, tenant.id));
      await timer.time("config writes", () => this.stacks.configure(stack, ops.platformConfig, desired));
    } catch (err) {
      const message = this.options.redactor.redact((err as Error).message.split("\n")[0] ?? "");
      this.options.log.log("error", `the tenant stack could not be opened: ${message}`, { tenant: tenant.id });
      return { ok: false, retryable: true, details: [message], error: { code, message: "the platform could not apply this change yet; it is tried again" } };
    }
    const namespaces = this.namespaces();
    const kept = operation.kind === "create" && namespaces ? await timer.time("namespace check", () => checkBeforeCreate(namespaces, stack, tenant.id, code, this.options)) : undefined;
    if (kept !== undefined) return kept;
    const result = await timer.time("engine run", () => this.up(stack, run, code, timer));
    if (!result.ok && !result.retryable && operation.kind === "create") await timer.time("rollback", () => this.rollBack(stack, tenant.id, ops));
    return result;
  }

  /** The engine's cluster, for the real program only (a stand-in program creates nothing in a cluster). */
  private namespaces(): KubeTenantNamespaces | undefined {
    if (this.options.program !== undefined) return undefined;
    try {
      this.clusterNamespaces ??= new KubeTenantNamespaces(loadKubeConfig(this.options.extraEnv?.KUBECONFIG ?? process.env.KUBECONFIG));
    } catch (err) {
      // The engine's provider reads the same kubeconfig: it cannot create anything either.
      this.options.log.log("warn", `the kubeconfig cannot be loaded; namespaces are not checked: ${(err as Error).message.split("\n")[0] ?? ""}`);
    }
    return this.clusterNamespaces;
  }

  private async up(stack: Stack, run: OperationRun, code: string, timer: PhaseTimer): Promise<RunResult> {
    const { tenant } = run;
    const redact = (value: string): string => this.options.redactor.redact(value);
    for (let attempt = 1; attempt <= 2; attempt++) {
      // No engine starts once the stack's lock is lost (run() says why).
      if (this.leases.get(stack.name)?.lost !== undefined) break;
      const tracker = new UpdateTracker([tenant.id], redact);
      const started = Date.now();
      // The engine's lines carry the operation's request id (the queue's log context).
      this.options.log.log("info", "engine update started", { stack: stack.name, kind: run.operation.kind });
      const phases = phasesObserved() ? new EnginePhases(timer) : undefined;
      const unwatch = phases ? watchStateWrites(stateFolder(this.stacks.engine), stack.name, timer) : () => undefined;
      try {
        // "started" (with the attempt) is the queue's: it sends it before calling the runner.
        const result = await upFromEvents(stack, {
          // The live cluster is the truth: refreshed first, unless the state lists nothing to refresh.
          refresh: stateHasResources(this.stacks.engine, stack.name) !== false,
          message: `${run.operation.kind} ${tenant.id} (operation ${run.operation.id})`,
          onEvent: (event) => {
            phases?.handle(event);
            // One tenant per stack: every attributed event is this tenant's own.
            for (const { tenant: owner, event: progress } of tracker.handle(event)) if (owner === tenant.id) run.progress(progress);
          },
        });
        phases?.finish();
        const changes = tracker.summary?.resourceChanges ?? {};
        this.options.log.log("info", "engine update finished", {
          stack: stack.name, kind: run.operation.kind, seconds: (Date.now() - started) / 1000,
          changes: Object.entries(changes).map(([op, n]) => `${op}=${n}`).join(","),
        });
        run.progress({ type: "summary", changes, ...(tracker.summary ? { durationSeconds: tracker.summary.durationSeconds } : {}) });
        return { ok: true, changes, outputs: this.applied(result.outputs, tenant.id) };
      } catch (err) {
        if (attempt === 1 && isLockError(err) && (await this.unlock(stack))) continue;
        const own = tracker.errorsFor(tenant.id);
        const general = tracker.generalErrors();
        const detail = err instanceof CommandError || err instanceof Error ? err.message : String(err);
        const retryable = TRANSIENT.test(detail) || isLockError(err);
        this.options.log.log("warn", "tenant stack update failed", { tenant: tenant.id, retryable: String(retryable), detail: redact(detail.slice(-2_000)) });
        const details = [...own, ...general];
        if (details.length === 0) details.push("the engine failed without diagnostics; see the server log");
        // The customer sees their own resources' errors; stack-wide ones are the platform's.
        const message = own.length > 0 ? own.join("; ").slice(0, 1_000) : retryable ? "the platform could not apply this change yet; it is tried again" : "the platform could not apply this change; an operator has been notified";
        return { ok: false, retryable, details, error: { code: own.length > 0 ? code : "update_failed", message } };
      } finally {
        unwatch();
      }
    }
    return { ok: false, retryable: true, error: { code, message: "the instance's stack stayed locked; it is tried again" } };
  }

  private applied(outputs: OutputMap, id: string): AppliedOutputs {
    const url = text(tenantOutput(outputs, id), "url");
    return url === undefined ? {} : { url };
  }

  /**
   * A Pulumi lock on a tenant stack while this run holds the stack's lock: removed only when
   * its engine is proven gone (open-stack.ts); false means retry later. Never without this
   * run's lease: a lost lease proves nothing about other engines.
   */
  private async unlock(stack: Stack): Promise<boolean> {
    const lease = this.leases.get(stack.name);
    if (!lease || lease.lost !== undefined) return false;
    const holder = await releaseDeadLocks(stack, { ...this.recovery(stack.name), lockReported: true });
    if (holder !== undefined) this.options.log.log("warn", `the tenant stack is still locked by ${holder}; retrying later`, { stack: stack.name });
    return holder === undefined;
  }

  /** Before a retry: engines of dead servers, locks and pending operations a killed run left behind. */
  private async recover(stack: Stack, tenantId: string): Promise<void> {
    await recoverStack(stack, { ...this.recovery(stack.name), progress: (line) => this.options.log.log("warn", line, { tenant: tenantId }) });
  }

  private recovery(stackName: string): RecoveryOptions {
    const lease = this.leases.get(stackName);
    return {
      engine: this.stacks.engine,
      progress: (line) => this.options.log.log("warn", line, { stack: stackName }),
      // Only a held lease across hosts proves that no other engine runs on the stack.
      acrossHosts: this.locks.acrossHosts && lease !== undefined && lease.lost === undefined,
    };
  }

  /**
   * Removes what a failed create made. Its namespace, Secrets and volumes are retainOnDelete,
   * so the update alone would leave them outside the state, with the passwords gone from it:
   * a retry would then meet a namespace it cannot create and Secrets it cannot match. A create
   * that never succeeded holds no customer data, so the namespace its own stack made (seen
   * in the state before the update) is deleted too. Best effort.
   */
  private async rollBack(stack: Stack, tenantId: string, ops: FleetStackSnapshot): Promise<void> {
    // Without the stack's lock another engine may run on it: the retry rolls back instead.
    if (this.leases.get(stack.name)?.lost !== undefined) return;
    try {
      const namespaces = this.namespaces();
      const made = namespaces !== undefined && (await namespaceInState(stack, tenantNames(tenantId).namespace));
      await this.stacks.configure(stack, ops.platformConfig, undefined);
      await stack.up({ refresh: true, message: `roll back failed create of ${tenantId}` });
      if (made && !(await namespaces.deleteAndWait(tenantId, ROLLBACK_NAMESPACE_MS))) {
        this.options.log.log("warn", "the failed create's namespace is still being deleted; a retry waits for it", { tenant: tenantId });
      }
    } catch (err) {
      this.options.log.log("warn", `rolling back the failed create left objects behind: ${this.options.redactor.redact((err as Error).message.split("\n")[0] ?? "")}`, { tenant: tenantId });
    }
  }

  async credentials(tenantId: string): Promise<{ url: string; login: string; password: string } | undefined> {
    const stack = await this.stacks.stack(tenantId);
    const entry = tenantOutput(await stack.outputs(), tenantId);
    const url = text(entry, "url");
    const login = text(entry, "adminLogin");
    const password = text(entry, "adminPassword");
    if (url === undefined || login === undefined || password === undefined) return undefined;
    this.options.redactor.add(password);
    return { url, login, password };
  }
}
