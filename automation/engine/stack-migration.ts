/**
 * Moves the tenants of the old shared self-service stack `<fleetStack>-selfservice` into their
 * own stacks (`<fleetStack>-tenant-<id>`) without touching a Kubernetes object: `pulumi state
 * move` rewrites the state (the component with its children, and the provider they use), so
 * the next update of the tenant's stack finds everything as it is (same uids, no replace).
 *
 * Safe to run at every start: nothing to do once the old stack is gone. Per tenant, the move
 * is skipped when the tenant's stack already holds it (a previous run stopped half-way), and
 * the old stack is removed only when it manages no tenant any more.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { ODOO_TENANT_TYPE } from "../../components/odoo-tenant";
import { odooSaasProgram } from "../../components/platform";
import type { TenantInput } from "../../tenants/schema";
import { cliRoot, workspaceDir } from "./engine-env";
import { parseUrn } from "./engine-events";
import { TENANTS_KEY, readFleetStack } from "../fleet-stack";
import { findStack, releaseDeadLocks, StackLockedError } from "./open-stack";
import { tenantIdsInState } from "./program-stack";
import type { TenantStacks } from "./tenant-stacks";

const run = promisify(execFile);

export interface MigrationOptions {
  fleetStackName: string;
  fleetStackFile: string;
  stacks: TenantStacks;
  progress: (line: string) => void;
}

export interface MigrationResult {
  /** Tenants whose resources moved into their own stack in this run. */
  moved: string[];
  /** Whether the old stack was found (and is now removed). */
  oldStackRemoved: boolean;
}

export function selfServiceStackName(fleetStackName: string): string {
  return `${fleetStackName}-selfservice`;
}

/** The old stack, opened and recovered as every stack is (open-stack.ts); undefined once it is gone. */
async function openOldStack(options: MigrationOptions): Promise<Stack | undefined> {
  const old = await findStack(options.stacks.site, selfServiceStackName(options.fleetStackName), async () => odooSaasProgram(), options.progress);
  if (!old) return undefined;
  const holder = await releaseDeadLocks(old, { engine: options.stacks.engine, progress: options.progress });
  if (holder !== undefined) throw new StackLockedError(old.name, holder);
  return old;
}

/** The tenant inputs the old stack last applied, by id (its workspace's config). */
async function appliedInputs(stack: Stack): Promise<Map<string, TenantInput>> {
  const settings = await stack.workspace.stackSettings(stack.name).catch(() => undefined);
  const config: unknown = settings?.config;
  const list: unknown = typeof config === "object" && config !== null && Object.hasOwn(config, TENANTS_KEY) ? (config as Record<string, unknown>)[TENANTS_KEY] : undefined;
  const inputs = new Map<string, TenantInput>();
  for (const entry of Array.isArray(list) ? (list as unknown[]) : []) {
    if (typeof entry === "object" && entry !== null && Object.hasOwn(entry, "id") && typeof (entry as { id: unknown }).id === "string") {
      inputs.set((entry as { id: string }).id, entry as TenantInput);
    }
  }
  return inputs;
}

async function componentUrns(stack: Stack): Promise<Map<string, string>> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: Array<{ type?: unknown; urn?: unknown }> } | undefined)?.resources ?? [];
  const urns = new Map<string, string>();
  for (const r of resources) if (r.type === ODOO_TENANT_TYPE && typeof r.urn === "string") urns.set(parseUrn(r.urn).name, r.urn);
  return urns;
}

/**
 * Moves every tenant of the old stack. `inputOf` supplies a tenant's config when the old
 * stack's workspace no longer has it (e.g. another machine): from the signup records.
 */
export async function migrateSelfServiceStack(options: MigrationOptions, inputOf: (id: string) => Promise<TenantInput | undefined> = async () => undefined): Promise<MigrationResult> {
  const old = await openOldStack(options);
  if (!old) return { moved: [], oldStackRemoved: false };
  const fleet = readFleetStack(options.fleetStackFile);
  const inputs = await appliedInputs(old);
  const urns = await componentUrns(old);
  const moved: string[] = [];
  options.progress(`moving ${urns.size} tenant(s) from the shared stack ${old.name} into their own stacks`);
  for (const [id, urn] of urns) {
    const input = inputs.get(id) ?? (await inputOf(id));
    if (!input) throw new Error(`tenant "${id}" of ${old.name}: its config is neither in the old stack's workspace nor in the records; nothing was moved for it`);
    const target = await options.stacks.stack(id);
    await options.stacks.configure(target, fleet.platformConfig, input);
    if ((await tenantIdsInState(target)).has(id)) {
      options.progress(`tenant "${id}" is already in ${target.name}; skipping the move`);
      continue;
    }
    // Argument array, no shell: the URN and stack names are passed as they are.
    await run(path.join(cliRoot(options.stacks.root), "bin", "pulumi"), ["state", "move", "--source", old.name, "--dest", target.name, "--yes", "--non-interactive", urn], {
      cwd: workspaceDir(options.stacks.engine, target.name),
      env: { ...process.env, ...options.stacks.envVars },
      maxBuffer: 16 * 1024 * 1024,
    });
    moved.push(id);
    options.progress(`moved tenant "${id}" into ${target.name}`);
  }
  // A tenant still in the old state is fine only when its own stack holds it too (a run that
  // stopped between writing the two states): the old copy is then redundant.
  const left: string[] = [];
  for (const id of (await componentUrns(old)).keys()) {
    if (!(await tenantIdsInState(await options.stacks.stack(id))).has(id)) left.push(id);
  }
  if (left.length > 0) throw new Error(`${old.name} still manages ${left.join(", ")} after the move; it is kept`);
  // Only the provider is left in its state: forget the stack, never delete a cluster object.
  await old.workspace.removeStack(old.name, { force: true });
  options.progress(`removed the emptied shared stack ${old.name}`);
  return { moved, oldStackRemoved: true };
}
