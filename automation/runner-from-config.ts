/**
 * The runner the served server uses: the engine, one stack per self-service tenant
 * (automation/tenant-stack-runner.ts), with the server's program, engine location and
 * environment (the kubeconfig the status reader uses, so both see one cluster).
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { EngineLocation } from "./engine-env";
import type { Logger, Redactor } from "./log";
import type { OperationRunner } from "./operation-runner";
import type { SignupServerConfig } from "./server-config";

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
}

export async function createRunner(_config: SignupServerConfig, _deps: RunnerDeps): Promise<EngineRunner> {
  throw new Error("the engine runner (automation/tenant-stack-runner.ts) is not merged yet");
}
