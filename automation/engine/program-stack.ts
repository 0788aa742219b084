/**
 * A stack of the real program (`index.ts` / `odooSaasProgram`) in the engine, run inline
 * through the Automation API (no Node language host is needed): the main job, `npm run
 * preview`, the integration tests and the benchmarks open stacks through here.
 *
 * The stack's config is written into its own workspace folder from the given map (the
 * `config:` of `Pulumi.<stack>.yaml`), so the repository's stack files are never rewritten
 * by the engine (a passphrase stack would add its salt to them).
 */
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { ODOO_TENANT_TYPE } from "../../components/odoo-tenant";
import { odooSaasProgram } from "../../components/platform";
import { PROJECT_NAME } from "../../tenants/config-source";
import { endOrphanedEngines } from "./engine-command";
import { backendUrl, defaultEngineLocation, engineEnv, localBackendDir, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "./engine-env";
import { parseUrn } from "./engine-events";
import { describePlugin, installPlugins, planPlugins, type PluginPlan } from "./plugins";
import { processAlive } from "./process-alive";

export interface ProgramStackOptions {
  stackName: string;
  /** The stack's config: namespaced keys, as under `config:` in `Pulumi.<stack>.yaml`. */
  config: Record<string, unknown>;
  /** The cluster the Kubernetes provider talks to (else its own defaults: KUBECONFIG, ~/.kube/config). */
  kubeconfig?: string;
  engine?: EngineLocation;
  root?: string;
  /** Default: the real program. */
  program?: PulumiFn;
  /** Lines about set-up work (plugin choice, downloads, lock recovery). */
  progress?: (line: string) => void;
}

export interface ProgramStack {
  stack: Stack;
  plugins: PluginPlan;
  engine: EngineLocation;
  envVars: Record<string, string>;
}

export async function openProgramStack(options: ProgramStackOptions): Promise<ProgramStack> {
  const root = options.root ?? repoRoot();
  const engine = options.engine ?? defaultEngineLocation(root);
  const progress = options.progress ?? (() => undefined);
  const plugins = planPlugins(root, engine.pulumiHome);
  for (const source of plugins.sources) progress(`plugin ${describePlugin(source)}`);
  const envVars = engineEnv(engine, root, plugins);
  if (options.kubeconfig !== undefined) envVars.KUBECONFIG = options.kubeconfig;
  const program = options.program ?? (async () => odooSaasProgram());
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName, projectName: PROJECT_NAME, program },
    {
      pulumiCommand: await pulumiCommand(root),
      envVars,
      workDir: workspaceDir(engine, options.stackName),
      projectSettings: { name: PROJECT_NAME, runtime: "nodejs", backend: { url: backendUrl(engine) } },
    },
  );
  await installPlugins(stack.workspace, plugins, progress);
  // Keep what the engine wrote (e.g. the passphrase salt); the config is ours to set.
  const settings = await stack.workspace.stackSettings(options.stackName).catch(() => ({}));
  await stack.workspace.saveStackSettings(options.stackName, { ...settings, config: options.config as never });
  // Engines (CLIs, plugins) of a run whose process died, then the locks they held.
  const ended = endOrphanedEngines();
  if (ended.length > 0) progress(`ended ${ended.length} engine process(es) left by a run that stopped (pids ${ended.join(", ")})`);
  await releaseStaleLocks(engine, options.stackName, progress);
  return { stack, plugins, engine, envVars };
}

interface LockInfo {
  file: string;
  pid: number | undefined;
  hostname: string | undefined;
  timestamp: string | undefined;
}

function lockDir(backend: string, stackName: string): string {
  return path.join(backend, ".pulumi", "locks", "organization", PROJECT_NAME, stackName);
}

/** The file backend's locks of one stack; none can be read from an object store (see cancelLock). */
export function readLocks(engine: EngineLocation, stackName: string): LockInfo[] {
  const backend = localBackendDir(engine);
  if (backend === undefined) return [];
  const dir = lockDir(backend, stackName);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => {
    const file = path.join(dir, f);
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      const get = (key: string): unknown => (typeof parsed === "object" && parsed !== null && Object.hasOwn(parsed, key) ? (parsed as Record<string, unknown>)[key] : undefined);
      const pid = get("pid");
      const hostname = get("hostname");
      const timestamp = get("timestamp");
      return {
        file,
        pid: typeof pid === "number" ? pid : undefined,
        hostname: typeof hostname === "string" ? hostname : undefined,
        timestamp: typeof timestamp === "string" ? timestamp : undefined,
      };
    } catch {
      return { file, pid: undefined, hostname: undefined, timestamp: undefined };
    }
  });
}

/**
 * Repairs the stack's state files that a killed engine may have broken: the file backend
 * (gocloud's fileblob) writes each object's `.attrs` sidecar in place (create, then write), so an
 * engine killed between the two leaves an empty one, and every later read of the stack fails
 * with "failed to load checkpoint: EOF". A missing sidecar reads as "no metadata", so a broken
 * one is removed; the state file itself is replaced atomically (temp file, then rename). Safe at
 * any time: removing a sidecar never loses state.
 */
export function repairStateSidecars(engine: EngineLocation, stackName: string, progress: (line: string) => void, project = PROJECT_NAME): void {
  const backend = localBackendDir(engine);
  if (backend === undefined) return;
  const stacks = path.join(backend, ".pulumi", "stacks", project);
  if (!fs.existsSync(stacks)) return;
  for (const name of fs.readdirSync(stacks)) {
    if (!name.startsWith(`${stackName}.json`) || !name.endsWith(".attrs")) continue;
    const file = path.join(stacks, name);
    try {
      JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      progress(`removing ${name}, a state sidecar a stopped engine left half-written`);
      fs.rmSync(file, { force: true });
    }
  }
}

/** Removes a dead engine's lock file (and its sidecar), then repairs what the kill may have broken. */
export function removeStaleLock(engine: EngineLocation, stackName: string, lock: LockInfo, progress: (line: string) => void): void {
  progress(`removing the lock of an engine that stopped mid-update (pid ${lock.pid ?? "?"}, ${lock.timestamp ?? "time unknown"})`);
  fs.rmSync(lock.file, { force: true });
  fs.rmSync(`${lock.file}.attrs`, { force: true });
  repairStateSidecars(engine, stackName, progress);
}

/** A lock is stale when the engine that took it ran on this host and has exited. */
export function isStaleLock(lock: LockInfo, hostname = os.hostname(), alive = processAlive): boolean {
  return lock.pid !== undefined && lock.hostname === hostname && !alive(lock.pid);
}

export class StackLockedError extends Error {}

/**
 * Removes the locks of engines that died on this host (kill -9 mid-update), so the next
 * run converges without a person; a lock held by a live engine, or by another host, is an
 * error that says who holds it.
 */
export async function releaseStaleLocks(engine: EngineLocation, stackName: string, progress: (line: string) => void): Promise<void> {
  // An engine ended by a signal may have let go of its lock and still left a sidecar half-written.
  repairStateSidecars(engine, stackName, progress);
  for (const lock of readLocks(engine, stackName)) {
    if (isStaleLock(lock)) {
      removeStaleLock(engine, stackName, lock, progress);
    } else {
      throw new StackLockedError(`stack "${stackName}" is being updated by another engine (pid ${lock.pid ?? "?"} on ${lock.hostname ?? "?"} since ${lock.timestamp ?? "?"}); wait for it, or run \`pulumi cancel\` if it is gone`);
    }
  }
}

/** Tenant ids the stack's state holds: the names of its OdooTenant components. */
export async function tenantIdsInState(stack: Stack): Promise<Set<string>> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: Array<{ type?: unknown; urn?: unknown }> } | undefined)?.resources ?? [];
  const ids = new Set<string>();
  for (const resource of resources) {
    if (resource.type === ODOO_TENANT_TYPE && typeof resource.urn === "string") ids.add(parseUrn(resource.urn).name);
  }
  return ids;
}

/**
 * After an engine was killed mid-update the state lists pending operations: objects it may
 * or may not have created. Clearing the pending creates lets the next update create them
 * again; the Kubernetes provider applies server-side, so an object that does exist is
 * adopted, not duplicated (names are derived, never random).
 */
export async function clearPendingOperations(stack: Stack, progress: (line: string) => void): Promise<number> {
  const state = await stack.exportStack();
  const pending = (state.deployment as { pending_operations?: unknown[] } | undefined)?.pending_operations ?? [];
  if (pending.length === 0) return 0;
  progress(`clearing pending operations left in the state by a killed update (${pending.length}); refreshing the state so this run completes them`);
  await stack.refresh({ clearPendingCreates: true });
  return pending.length;
}
