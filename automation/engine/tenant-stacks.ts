/**
 * One stack per self-service tenant, of the same program as `pulumi up`: `<opsStack>-tenant-<id>`,
 * each with its own workspace folder (parallel createStack/selectStack in one workspace can
 * corrupt workspace.json, pulumi/pulumi#8186). Opening a stack is cached per tenant; the
 * config is written before every run: the ops stack's platform keys and this tenant alone.
 */
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, StackAlreadyExistsError, type InlineProgramArgs, type LocalWorkspaceOptions, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { stateFileExists } from "./state-file";
import { timerOfStack } from "./phase-timer";
import { odooSaasProgram } from "../../components/platform";
import { PROJECT_NAME } from "../../tenants/config-source";
import type { TenantInput } from "../../tenants/schema";
import { backendUrl, defaultEngineLocation, engineEnv, pulumiCommand, repoRoot, workspaceDir, type EngineLocation } from "./engine-env";
import { describePlugin, installPlugins, planPlugins, type PluginPlan } from "./plugins";
import { TENANTS_KEY } from "../ops-stack";

export interface TenantStacksOptions {
  /** The ops stack's name: tenant stacks are named after it. */
  opsStackName: string;
  /** Default: the real program (`odooSaasProgram`). */
  program?: PulumiFn;
  engine?: EngineLocation;
  root?: string;
  /** Extra environment for the engine and its plugins (e.g. KUBECONFIG). */
  extraEnv?: Record<string, string>;
  progress?: (line: string) => void;
}

/** Stack names are derived, never random: the tenant id is a DNS-1123 label, valid in a stack name. */
export function tenantStackName(opsStackName: string, tenantId: string): string {
  return `${opsStackName}-tenant-${tenantId}`;
}

export class TenantStacks {
  readonly engine: EngineLocation;
  readonly root: string;
  readonly envVars: Record<string, string>;
  private readonly plugins: PluginPlan;
  private readonly program: PulumiFn;
  private readonly open = new Map<string, Promise<Stack>>();
  private pluginsInstalled: Promise<void> | undefined;
  /** The CLI, checked once: getting it runs `pulumi version`, a process per stack opened otherwise. */
  private command: ReturnType<typeof pulumiCommand> | undefined;

  constructor(private readonly options: TenantStacksOptions) {
    this.root = options.root ?? repoRoot();
    this.engine = options.engine ?? defaultEngineLocation(this.root);
    this.program = timedProgram(options.program ?? (async () => odooSaasProgram()));
    this.plugins = planPlugins(this.root, this.engine.pulumiHome);
    for (const source of this.plugins.sources) options.progress?.(`plugin ${describePlugin(source)}`);
    this.envVars = { ...engineEnv(this.engine, this.root, this.plugins), ...(options.extraEnv ?? {}) };
  }

  stackName(tenantId: string): string {
    return tenantStackName(this.options.opsStackName, tenantId);
  }

  /** The tenant's stack, created on first use. */
  async stack(tenantId: string): Promise<Stack> {
    const name = this.stackName(tenantId);
    let opening = this.open.get(name);
    if (!opening) {
      opening = this.openStack(name);
      this.open.set(name, opening);
      // A failed open (CLI gone, backend away) is tried again next time, not cached.
      opening.catch(() => this.open.delete(name));
    }
    return opening;
  }

  /** The tenant's stack if it exists (never creates one): for purge and reads. */
  async find(tenantId: string): Promise<Stack | undefined> {
    try {
      return await this.openStack(this.stackName(tenantId), "select");
    } catch (err) {
      if (/no stack named|not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  private cli(): ReturnType<typeof pulumiCommand> {
    if (!this.command) {
      this.command = pulumiCommand(this.root);
      // A CLI missing now may be built later: not cached.
      this.command.catch(() => (this.command = undefined));
    }
    return this.command;
  }

  private async openStack(stackName: string, mode: "create-or-select" | "select" = "create-or-select"): Promise<Stack> {
    const args = { stackName, projectName: PROJECT_NAME, program: this.program };
    const opts = {
      pulumiCommand: await this.cli(),
      envVars: this.envVars,
      workDir: workspaceDir(this.engine, stackName),
      // A new stack's secrets provider (e.g. awskms://...); an existing stack keeps its own.
      ...(process.env.ODOO_SAAS_SECRETS_PROVIDER ? { secretsProvider: process.env.ODOO_SAAS_SECRETS_PROVIDER } : {}),
      projectSettings: { name: PROJECT_NAME, runtime: "nodejs" as const, backend: { url: backendUrl(this.engine) } },
    };
    const stack = mode === "select" ? await LocalWorkspace.selectStack(args, opts) : await this.createOrSelect(stackName, args, opts);
    // Plugins are per PULUMI_HOME, shared by every tenant stack: install (if needed) once.
    this.pluginsInstalled ??= installPlugins(stack.workspace, this.plugins, this.options.progress ?? (() => undefined));
    await this.pluginsInstalled;
    return stack;
  }

  /**
   * createOrSelectStack runs `stack select`, which fails for a new stack, then `stack init`: two
   * engine processes. When the file backend shows no state for it, `stack init` alone (one
   * process); should it exist after all, selected as before.
   */
  private async createOrSelect(stackName: string, args: InlineProgramArgs, opts: LocalWorkspaceOptions): Promise<Stack> {
    if (stateFileExists(this.engine, stackName) === false) {
      try {
        return await LocalWorkspace.createStack(args, opts);
      } catch (err) {
        if (!(err instanceof StackAlreadyExistsError)) throw err;
      }
    }
    return LocalWorkspace.createOrSelectStack(args, opts);
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
