/**
 * The runner the served server uses: the engine, one stack per self-service tenant
 * (tenant-stack-runner.ts), with the server's program, engine location and environment (the
 * kubeconfig the status reader uses, so both see one cluster); and the one-time move of the
 * old shared stack's tenants into their own stacks (stack-migration.ts), run by one process
 * at a time (an advisory lock: two servers may start together).
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { endOrphanedEngines } from "./engine/engine-command";
import type { EngineLocation } from "./engine/engine-env";
import type { Logger, Redactor } from "./log";
import type { OperationRunner } from "./operation-runner";
import type { RecordsStore } from "./records/records-store";
import { LOCK_CLASS } from "./records/schema";
import { fleetStackFile, requireDatabaseUrl, type SignupServerConfig } from "./server-config";
import { StackLocks } from "./engine/stack-lock";
import { migrateSelfServiceStack } from "./engine/stack-migration";
import { TenantStackRunner } from "./engine/tenant-stack-runner";
import { tenantAfter } from "./engine/tenant-stack-rules";

export interface RunnerDeps {
  root: string;
  log: Logger;
  redactor: Redactor;
  program?: PulumiFn;
  engine?: EngineLocation;
  extraEnv?: Record<string, string>;
}

export interface EngineRunner {
  runner: OperationRunner;
  /** The stack of one self-service tenant. */
  stackNameOf(tenantId: string): string;
  /** Moves the old shared stack's tenants into their own stacks, once (before the queue starts). */
  migrate(records: RecordsStore): Promise<void>;
}

export async function createRunner(config: SignupServerConfig, deps: RunnerDeps): Promise<EngineRunner> {
  // Recovery at start: engines (CLIs, plugins) left running by a server of this host that died.
  const ended = endOrphanedEngines();
  if (ended.length > 0) deps.log.log("warn", "ended engine processes whose server stopped", { pids: ended.join(",") });
  const runner = new TenantStackRunner({
    // One engine per stack across every server on this database.
    locks: new StackLocks({ connectionString: requireDatabaseUrl(config) }),
    fleetStackFile: fleetStackFile(config),
    fleetStackName: config.fleetStack,
    ...(deps.program !== undefined ? { program: deps.program } : {}),
    ...(deps.engine !== undefined ? { engine: deps.engine } : {}),
    root: deps.root,
    // The engine's Kubernetes provider deploys to the cluster the server reads status from.
    extraEnv: { ...(config.kubeconfig !== undefined && config.kubeconfig !== "none" ? { KUBECONFIG: config.kubeconfig } : {}), ...(deps.extraEnv ?? {}) },
    log: deps.log,
    redactor: deps.redactor,
  });
  return {
    runner,
    stackNameOf: (id) => runner.stackNameOf(id),
    async migrate(records) {
      const client = await records.pool.connect();
      try {
        await client.query("select pg_advisory_lock($1, 0)", [LOCK_CLASS.migrateStacks]);
        const result = await migrateSelfServiceStack(
          { fleetStackName: config.fleetStack, fleetStackFile: fleetStackFile(config), stacks: runner.stacks, progress: (line) => deps.log.log("info", line) },
          async (id) => {
            const tenant = await records.tenant(id);
            return tenant && tenant.state !== "retired" ? tenantAfter(tenant, "create") : undefined;
          },
        );
        if (result.moved.length > 0 || result.oldStackRemoved) deps.log.log("info", "moved the shared self-service stack's tenants into their own stacks", { moved: result.moved.join(","), oldStackRemoved: result.oldStackRemoved });
        // `pulumi state move` moves resources, not the stack's outputs: an update of each moved
        // stack (its resources unchanged) registers them, so its owner reads the credentials.
        for (const id of result.moved) {
          try {
            const done = await runner.exclusive(id, async () => (await runner.stacks.stack(id)).up({ refresh: true, message: `outputs of ${id} after the move into its own stack` }));
            if (done === undefined) deps.log.log("warn", `the moved stack of ${id} is in use by another engine; its outputs come with its next operation`, { tenant: id });
          } catch (err) {
            deps.log.log("warn", `the moved stack of ${id} has no outputs until its next operation: ${deps.redactor.redact((err as Error).message.split("\n")[0] ?? "")}`, { tenant: id });
          }
        }
      } finally {
        await client.query("select pg_advisory_unlock($1, 0)", [LOCK_CLASS.migrateStacks]).catch(() => undefined);
        client.release();
      }
    },
  };
}
