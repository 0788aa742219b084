/**
 * A stack of the real program (`index.ts` / `odooSaasProgram`) in the engine, run inline
 * through the Automation API (no Node language host is needed): the main job, `npm run
 * preview`, the integration tests and the benchmarks open stacks through here.
 *
 * The stack's config is written into its own workspace folder from the given map (the
 * `config:` of `Pulumi.<stack>.yaml`), so the repository's stack files are never rewritten
 * by the engine (a passphrase stack would add its salt to them). Opened and recovered as
 * every stack is (open-stack.ts).
 */
import type { PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { ODOO_TENANT_TYPE } from "../../components/odoo-tenant";
import { odooSaasProgram } from "../../components/platform";
import type { EngineLocation } from "./engine-env";
import { parseUrn } from "./engine-events";
import { engineSite, openStack, releaseDeadLocks, StackLockedError } from "./open-stack";
import type { PluginPlan } from "./plugins";

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
  const progress = options.progress ?? (() => undefined);
  const site = engineSite({
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
    ...(options.kubeconfig !== undefined ? { extraEnv: { KUBECONFIG: options.kubeconfig } } : {}),
    progress,
  });
  const program = options.program ?? (async () => odooSaasProgram());
  const stack = await openStack(site, options.stackName, program, progress);
  // Keep what the engine wrote (e.g. the passphrase salt); the config is ours to set.
  const settings = await stack.workspace.stackSettings(options.stackName).catch(() => ({}));
  await stack.workspace.saveStackSettings(options.stackName, { ...settings, config: options.config as never });
  // No stack lock across hosts here: only engines proven gone on this host are cleared.
  const holder = await releaseDeadLocks(stack, { engine: site.engine, progress });
  if (holder !== undefined) throw new StackLockedError(options.stackName, holder);
  return { stack, plugins: site.plugins, engine: site.engine, envVars: site.envVars };
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
