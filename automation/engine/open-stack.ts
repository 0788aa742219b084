/**
 * The one way a stack is opened and recovered, for every path that runs the engine: `npm start`
 * and `npm run preview` (deploy.ts through program-stack.ts), the signup server's runs
 * (tenant-stacks.ts, tenant-stack-runner.ts), the move of the old shared stack
 * (stack-migration.ts) and `tenant:purge`.
 *
 * Opening: one workspace folder per stack (parallel stacks in one workspace can corrupt
 * workspace.json, pulumi/pulumi#8186), the engine's CLI through its launcher, the backend and
 * plugins of one engine site, and a new stack's secrets provider (ODOO_SAAS_SECRETS_PROVIDER).
 *
 * Recovery policy, the same on every path:
 * - Engine processes (CLIs, plugins) whose owner process died are ended (engine-command.ts).
 * - State sidecars a killed engine left half-written are removed (that never loses state).
 * - A Pulumi lock is removed only when its engine is proven gone: its pid on this host has
 *   exited, or the caller holds the stack's lock across hosts (stack-lock.ts, a PostgreSQL
 *   advisory lock: every engine on the stack runs under it, and one that loses it is ended),
 *   so any other lock is a dead engine's and `pulumi cancel` removes it (the only way when the
 *   locks are in an object store, unreadable here).
 * - A lock held by a live engine (an engine of this process, a live pid on this host, or,
 *   without the lock across hosts, any engine elsewhere) is never removed: "cannot take the
 *   lock" means retry later (the runner) or stop and say to run again (npm start, preview,
 *   purge, the migration). `pulumi cancel` is never a way to take a lock.
 * - Before the next update, pending operations a killed update left are cleared (a refresh
 *   with clearPendingCreates); objects it did create are adopted (server-side apply, derived names).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, StackAlreadyExistsError, type InlineProgramArgs, type LocalWorkspaceOptions, type PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { PROJECT_NAME } from "../../tenants/config-source";
import { endOrphanedEngines, runningEngines } from "./engine-command";
import { backendUrl, defaultEngineLocation, engineEnv, localBackendDir, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "./engine-env";
import { describePlugin, installPlugins, planPlugins, type PluginPlan } from "./plugins";
import { processAlive } from "./process-alive";
import { stateFileExists } from "./state-file";
import { isLockError } from "./tenant-stack-rules";

/** Where stacks are opened: the repository, the backend and home, the engine's environment and plugins. */
export interface EngineSite {
  readonly root: string;
  readonly engine: EngineLocation;
  readonly envVars: Record<string, string>;
  readonly plugins: PluginPlan;
}

export function engineSite(options: { root?: string; engine?: EngineLocation; extraEnv?: Record<string, string>; progress?: (line: string) => void } = {}): EngineSite {
  const root = options.root ?? repoRoot();
  const engine = options.engine ?? defaultEngineLocation(root);
  const plugins = planPlugins(root, engine.pulumiHome);
  for (const source of plugins.sources) options.progress?.(`plugin ${describePlugin(source)}`);
  return { root, engine, plugins, envVars: { ...engineEnv(engine, root, plugins), ...(options.extraEnv ?? {}) } };
}

/** Plugins are per PULUMI_HOME, shared by every stack of a site: installed (if needed) once. */
const pluginsInstalled = new WeakMap<EngineSite, Promise<void>>();

/** The CLI of a site, checked once: getting it runs `pulumi version`, a process per stack opened otherwise. */
const commands = new WeakMap<EngineSite, Promise<PulumiCommand>>();

function siteCommand(site: EngineSite): Promise<PulumiCommand> {
  let command = commands.get(site);
  if (!command) {
    command = pulumiCommand(site.root);
    commands.set(site, command);
    // A CLI missing now may be built later: not cached.
    command.catch(() => commands.delete(site));
  }
  return command;
}

/**
 * createOrSelectStack runs `stack select`, which fails for a new stack, then `stack init`: two
 * engine processes. When the file backend shows no state for it, `stack init` alone (one
 * process); should it exist after all, selected as before.
 */
async function createOrSelect(site: EngineSite, args: InlineProgramArgs, opts: LocalWorkspaceOptions): Promise<Stack> {
  if (stateFileExists(site.engine, args.stackName) === false) {
    try {
      return await LocalWorkspace.createStack(args, opts);
    } catch (err) {
      if (!(err instanceof StackAlreadyExistsError)) throw err;
    }
  }
  return LocalWorkspace.createOrSelectStack(args, opts);
}

async function open(site: EngineSite, stackName: string, program: PulumiFn, mode: "create-or-select" | "select", progress: (line: string) => void): Promise<Stack> {
  const args = { stackName, projectName: PROJECT_NAME, program };
  const opts: LocalWorkspaceOptions = {
    pulumiCommand: await siteCommand(site),
    envVars: site.envVars,
    workDir: workspaceDir(site.engine, stackName),
    // A new stack's secrets provider (e.g. awskms://...); an existing stack keeps its own.
    ...(process.env.ODOO_SAAS_SECRETS_PROVIDER ? { secretsProvider: process.env.ODOO_SAAS_SECRETS_PROVIDER } : {}),
    projectSettings: { name: PROJECT_NAME, runtime: "nodejs", backend: { url: backendUrl(site.engine) } },
  };
  const stack = mode === "select" ? await LocalWorkspace.selectStack(args, opts) : await createOrSelect(site, args, opts);
  let installing = pluginsInstalled.get(site);
  if (!installing) {
    installing = installPlugins(stack.workspace, site.plugins, progress);
    pluginsInstalled.set(site, installing);
    installing.catch(() => pluginsInstalled.delete(site));
  }
  await installing;
  return stack;
}

/** The stack, created when missing. Recovery is the caller's (releaseDeadLocks, recoverStack). */
export function openStack(site: EngineSite, stackName: string, program: PulumiFn, progress: (line: string) => void = () => undefined): Promise<Stack> {
  return open(site, stackName, program, "create-or-select", progress);
}

/** The stack if it exists (never creates one): for purge, reads and the migration. */
export async function findStack(site: EngineSite, stackName: string, program: PulumiFn, progress: (line: string) => void = () => undefined): Promise<Stack | undefined> {
  try {
    return await open(site, stackName, program, "select", progress);
  } catch (err) {
    if (/no stack named|not found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

export interface LockInfo {
  file: string;
  pid: number | undefined;
  hostname: string | undefined;
  timestamp: string | undefined;
}

function lockDir(backend: string, stackName: string): string {
  return path.join(backend, ".pulumi", "locks", "organization", PROJECT_NAME, stackName);
}

/** The file backend's locks of one stack; none can be read from an object store. */
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

/**
 * The policy for one readable lock: "dead" (its pid on this host has exited: remove it),
 * "fenced" (another host's, while the caller holds the stack's lock across hosts, so its engine
 * cannot be running: `pulumi cancel`), else "live" (never removed).
 */
export function judgeLock(lock: LockInfo, acrossHosts: boolean, hostname = os.hostname(), alive = processAlive): "dead" | "fenced" | "live" {
  if (isStaleLock(lock, hostname, alive)) return "dead";
  if (acrossHosts && lock.hostname !== hostname) return "fenced";
  return "live";
}

function describeLock(lock: LockInfo): string {
  return `pid ${lock.pid ?? "?"} on ${lock.hostname ?? "?"} since ${lock.timestamp ?? "?"}`;
}

export interface RecoveryOptions {
  engine: EngineLocation;
  progress: (line: string) => void;
  /** The caller holds the stack's lock across hosts (StackLocks): no other engine runs on it. */
  acrossHosts?: boolean;
  /** The engine has just reported the stack locked (its lock may be unreadable here: an object store). */
  lockReported?: boolean;
}

/**
 * Ends dead engines, repairs sidecars and removes the locks of engines proven gone (the policy
 * above). Returns undefined when no live engine holds the stack, else who holds it: then the
 * caller retries later or stops; nothing live was touched.
 */
export async function releaseDeadLocks(stack: Stack, options: RecoveryOptions): Promise<string | undefined> {
  const { engine, progress } = options;
  const acrossHosts = options.acrossHosts === true;
  const ended = endOrphanedEngines();
  if (ended.length > 0) progress(`ended ${ended.length} engine process(es) left by a run that stopped (pids ${ended.join(", ")})`);
  repairStateSidecars(engine, stack.name, progress);
  if (runningEngines(stack.name) > 0) return "an engine of this process";
  let removed = 0;
  let fenced = false;
  for (const lock of readLocks(engine, stack.name)) {
    const verdict = judgeLock(lock, acrossHosts);
    if (verdict === "live") return `an engine still running (${describeLock(lock)})`;
    if (verdict === "dead") {
      removeStaleLock(engine, stack.name, lock, progress);
      removed++;
    } else {
      fenced = true;
    }
  }
  if (acrossHosts && (fenced || options.lockReported === true)) {
    // Holding the stack's lock across hosts: the Pulumi lock left is a dead engine's.
    progress(`removing the lock of an engine that stopped mid-update on another host (pulumi cancel)`);
    await stack.cancel().catch((err: Error) => progress(`no update to cancel: ${err.message.split("\n")[0] ?? ""}`));
    return undefined;
  }
  if (options.lockReported === true && removed === 0) return "an engine whose lock this host cannot read or prove gone";
  return undefined;
}

export class StackLockedError extends Error {
  constructor(readonly stackName: string, readonly holder: string) {
    super(`stack "${stackName}" is being updated by another engine (${holder}); run again once it has finished`);
  }
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

/** Everything the policy does before an update; throws StackLockedError while a live engine holds the stack. */
export async function recoverStack(stack: Stack, options: RecoveryOptions): Promise<void> {
  const release = async (lockReported: boolean): Promise<void> => {
    const holder = await releaseDeadLocks(stack, { ...options, lockReported });
    if (holder !== undefined) throw new StackLockedError(stack.name, holder);
  };
  await release(options.lockReported === true);
  await clearPendingOperations(stack, options.progress).catch(async (err: unknown) => {
    if (!isLockError(err)) throw err;
    await release(true);
    await clearPendingOperations(stack, options.progress);
  });
}
