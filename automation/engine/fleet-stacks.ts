/**
 * The tenants file fanned out to one stack per tenant, `<stack>-fleet-tenant-<id>`, each
 * given the file's platform keys and its own entry (as self-service does with
 * tenant-stacks.ts): a run touches only the stacks of the tenants a plan names
 * (fleet-plan.ts), so its cost follows the size of the change, not of the fleet.
 *
 * - update: preview or `up` (refresh first) of the tenant's stack; a new tenant's stack is
 *   made on `up` (a preview makes it for the run and removes it again);
 * - retire (a tenant removed from the file): `up` with no tenant, which removes its objects
 *   and keeps its data (namespace, volumes, database secrets are retainOnDelete), then the
 *   empty stack is removed. The same as removing a tenant from the one stack of `index.ts`.
 * - A namespace that exists while the tenant's stack holds no tenant is someone's kept data
 *   (or another stack's tenant): refused, nothing changed (deploy.ts does the same).
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import type * as k8s from "@kubernetes/client-node";
import { heldOutsideStackMessage, idsHeldOutsideStack } from "../../checks/cluster-view";
import { PROJECT_NAME, StackFileError } from "../../tenants/config-source";
import type { TenantInput } from "../../tenants/schema";
import { summarizeChanges, type TenantChangeSummary } from "./change-summary";
import type { EngineLocation } from "./engine-env";
import { clearPendingOperations, releaseDeadLocks, StackLockedError } from "./open-stack";
import { tenantIdsInState } from "./program-stack";
import { stateHasResources } from "./state-file";
import { TenantStacks } from "./tenant-stacks";
import { upFromEvents } from "./up-from-events";

const TENANTS_KEY = `${PROJECT_NAME}:tenants`;

export type FleetMode = "preview" | "up";

export interface FleetRunOptions {
  /** The stack file's name (`dev` for Pulumi.dev.yaml): the fleet's stacks are named after it. */
  stackName: string;
  /** Head's whole `config:` map, as written. */
  configMap: Readonly<Record<string, unknown>>;
  kubeconfig: string;
  kc: k8s.KubeConfig;
  engine?: EngineLocation;
  root?: string;
  /** Stacks run at once (each its own engine and workspace). @default 2 */
  parallel?: number;
  progress?: (line: string) => void;
}

export interface TenantRun {
  id: string;
  action: "update" | "retire";
  ok: boolean;
  /** Per-tenant counts of this stack's run (empty when the engine did not run). */
  summary: TenantChangeSummary;
  /** Why it failed or was refused; or a note (e.g. no stack to retire). */
  message?: string;
  seconds: number;
}

/** `<stack>-fleet-tenant-<id>`: apart from self-service stacks (`<stack>-tenant-<id>`). */
export function fleetPrefix(stackName: string): string {
  return `${stackName}-fleet`;
}

/** The platform keys every tenant stack copies: everything but the tenants list. */
export function platformConfigOf(configMap: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const platform = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(configMap)) {
    if (key === TENANTS_KEY) continue;
    if (typeof value === "object" && value !== null && Object.hasOwn(value, "secure")) {
      // Encrypted with this stack file's key: no tenant stack could decrypt it.
      throw new StackFileError(`"${key}" is a secret value; the fleet's tenant stacks take plain platform keys only`);
    }
    platform[key] = value;
  }
  return platform;
}

/** The tenant's entry as written in the file (the schema validated it; the program parses it again). */
function rawTenant(configMap: Readonly<Record<string, unknown>>, id: string): TenantInput | undefined {
  const list = Object.hasOwn(configMap, TENANTS_KEY) ? configMap[TENANTS_KEY] : undefined;
  if (!Array.isArray(list)) return undefined;
  return list.find((t: unknown): t is TenantInput => typeof t === "object" && t !== null && (t as { id?: unknown }).id === id);
}

function mergeSummaries(summaries: readonly TenantChangeSummary[]): TenantChangeSummary {
  const merged: TenantChangeSummary = { tenants: new Map(), destructive: new Map(), failed: new Map() };
  for (const s of summaries) {
    for (const key of ["tenants", "destructive", "failed"] as const) {
      for (const [tenant, value] of s[key]) (merged[key] as Map<string, unknown>).set(tenant, value);
    }
  }
  return merged;
}

export function fleetSummary(runs: readonly TenantRun[]): TenantChangeSummary {
  return mergeSummaries(runs.map((r) => r.summary));
}

/** URNs of the objects a stack's state holds, besides the stack itself and its providers. */
async function managedResources(stack: Stack): Promise<string[]> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: Array<{ type?: unknown; urn?: unknown }> } | undefined)?.resources ?? [];
  return resources
    .filter((r) => typeof r.type === "string" && r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => String(r.urn));
}

/** Runs `work` over `items`, at most `limit` at once, results in input order. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

export class FleetRunner {
  readonly stacks: TenantStacks;
  private readonly platform: Record<string, unknown>;

  constructor(private readonly options: FleetRunOptions) {
    this.platform = platformConfigOf(options.configMap);
    this.stacks = new TenantStacks({
      fleetStackName: fleetPrefix(options.stackName),
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.root ? { root: options.root } : {}),
      extraEnv: { KUBECONFIG: options.kubeconfig },
      ...(options.progress ? { progress: options.progress } : {}),
    });
  }

  /** Updates the stacks of `changed`, retires those of `removed`; every tenant is tried. */
  async run(mode: FleetMode, plan: { changed: readonly string[]; removed: readonly string[] }): Promise<TenantRun[]> {
    const jobs = [...plan.changed.map((id) => ({ id, action: "update" as const })), ...plan.removed.map((id) => ({ id, action: "retire" as const }))];
    return pool(jobs, this.options.parallel ?? 2, (job) => this.one(mode, job.id, job.action));
  }

  private async one(mode: FleetMode, id: string, action: TenantRun["action"]): Promise<TenantRun> {
    const started = Date.now();
    const events: EngineEvent[] = [];
    const done = (ok: boolean, message?: string): TenantRun => ({ id, action, ok, summary: summarizeChanges(events), seconds: (Date.now() - started) / 1000, ...(message !== undefined ? { message } : {}) });
    // A stack this run made and must not leave behind: every preview's, and a refused update's.
    let made: Stack | undefined;
    try {
      const existing = await this.stacks.find(id);
      if (existing === undefined && action === "retire") return done(true, "no stack: nothing to retire");
      const stack = existing ?? await this.stacks.stack(id);
      if (existing === undefined) made = stack;
      const tenant = action === "update" ? rawTenant(this.options.configMap, id) : undefined;
      if (action === "update" && tenant === undefined) return done(false, "not in the stack file");
      // The one recovery policy (open-stack.ts): dead engines' locks go, a live engine's stops this tenant.
      const holder = await releaseDeadLocks(stack, { engine: this.stacks.engine, progress: this.options.progress ?? (() => undefined) });
      if (holder !== undefined) throw new StackLockedError(stack.name, holder);
      if (action === "update") {
        const held = await idsHeldOutsideStack(this.options.kc, [id], await tenantIdsInState(stack));
        if (held.length > 0) return done(false, heldOutsideStackMessage(held));
      }
      await this.stacks.configure(stack, this.platform, tenant);
      const onEvent = (event: EngineEvent): void => { events.push(event); };
      // A state that lists no resources (a new tenant's stack) has nothing to refresh (state-file.ts).
      const refresh = stateHasResources(this.stacks.engine, stack.name) !== false;
      if (mode === "preview") {
        await stack.preview({ refresh, diff: true, onEvent });
      } else {
        await clearPendingOperations(stack, this.options.progress ?? (() => undefined));
        // From here the stack holds what the engine made (even on failure): keep it, so a re-run converges.
        made = undefined;
        // The summary comes from the events: no follow-up CLI runs for outputs and history (up-from-events.ts).
        await upFromEvents(stack, { refresh, onEvent, message: `${action} ${id} from Pulumi.${this.options.stackName}.yaml` });
        if (action === "retire") {
          const left = await managedResources(stack);
          if (left.length > 0) return done(false, `retired, but its stack still holds ${left.slice(0, 3).join(", ")}; the stack is kept`);
          // Only the stack itself and its provider are left (kept objects left the state on retirement).
          await this.remove(stack, id, true);
        }
      }
      return done(true);
    } catch (err) {
      // The engine's first line says what failed, its last ones why: a comment has room for those.
      const lines = (err as Error).message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
      return done(false, [...new Set([lines[0], ...lines.slice(-2)])].filter((l) => l !== undefined).join(" … "));
    } finally {
      // An abandoned pull request's preview, or a refused id, adds no stack.
      if (made !== undefined) await this.remove(made, id).catch(() => undefined);
    }
  }

  private async remove(stack: Stack, id: string, force = false): Promise<void> {
    await stack.workspace.removeStack(stack.name, { force });
    this.stacks.forget(id);
  }
}
