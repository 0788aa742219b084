/**
 * One stack per self-service tenant, of the same program as `pulumi up`: `<fleetStack>-tenant-<id>`,
 * opened as every stack is (open-stack.ts: a workspace folder of its own, plugins installed
 * once per site). Opening a stack is cached per tenant; the config is written before every
 * run: the fleet stack's platform keys and this tenant alone.
 */
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { odooSaasProgram } from "../../components/platform";
import type { TenantInput } from "../../tenants/schema";
import type { EngineLocation } from "./engine-env";
import { engineSite, findStack, openStack, type EngineSite } from "./open-stack";
import { timerOfStack } from "./phase-timer";
import { TENANTS_KEY } from "../fleet-stack";

export interface TenantStacksOptions {
  /** The fleet stack's name: tenant stacks are named after it. */
  fleetStackName: string;
  /** Default: the real program (`odooSaasProgram`). */
  program?: PulumiFn;
  engine?: EngineLocation;
  root?: string;
  /** Extra environment for the engine and its plugins (e.g. KUBECONFIG). */
  extraEnv?: Record<string, string>;
  progress?: (line: string) => void;
}

/** Stack names are derived, never random: the tenant id is a DNS-1123 label, valid in a stack name. */
export function tenantStackName(fleetStackName: string, tenantId: string): string {
  return `${fleetStackName}-tenant-${tenantId}`;
}

export class TenantStacks {
  readonly site: EngineSite;
  readonly engine: EngineLocation;
  readonly root: string;
  readonly envVars: Record<string, string>;
  private readonly program: PulumiFn;
  private readonly open = new Map<string, Promise<Stack>>();
  private readonly progress = (line: string): void => this.options.progress?.(line);

  constructor(private readonly options: TenantStacksOptions) {
    this.site = engineSite(options);
    this.engine = this.site.engine;
    this.root = this.site.root;
    this.envVars = this.site.envVars;
    this.program = timedProgram(options.program ?? (async () => odooSaasProgram()));
  }

  stackName(tenantId: string): string {
    return tenantStackName(this.options.fleetStackName, tenantId);
  }

  /** The tenant's stack, created on first use. */
  async stack(tenantId: string): Promise<Stack> {
    const name = this.stackName(tenantId);
    let opening = this.open.get(name);
    if (!opening) {
      opening = openStack(this.site, name, this.program, this.progress);
      this.open.set(name, opening);
      // A failed open (CLI gone, backend away) is tried again next time, not cached.
      opening.catch(() => this.open.delete(name));
    }
    return opening;
  }

  /** The tenant's stack if it exists (never creates one): for purge and reads. */
  find(tenantId: string): Promise<Stack | undefined> {
    return findStack(this.site, this.stackName(tenantId), this.program, this.progress);
  }

  /** Writes the stack's config: the platform keys plus this tenant (or none, to retire it). */
  async configure(stack: Stack, platformConfig: Record<string, unknown>, tenant: TenantInput | undefined): Promise<void> {
    // Keep what the engine wrote (e.g. the passphrase salt); the config is ours to set.
    const settings = await stack.workspace.stackSettings(stack.name).catch(() => ({}));
    await stack.workspace.saveStackSettings(stack.name, {
      ...settings,
      config: { ...platformConfig, [TENANTS_KEY]: tenant === undefined ? [] : [tenant] } as never,
    });
  }

  /** Forgets a removed stack (purge). */
  forget(tenantId: string): void {
    this.open.delete(this.stackName(tenantId));
  }
}

/** The program, its run (registering the resources, not awaiting them) timed for the stack's run. */
function timedProgram(program: PulumiFn): PulumiFn {
  return async () => {
    const started = performance.now();
    try {
      return await program();
    } finally {
      timerOfStack(pulumi.getStack())?.record("program run", started);
    }
  };
}
