/**
 * One `up` or `preview` of a stack of the real program, with the checks that must come
 * first: the config is valid (the one schema), no configured id belongs to a namespace this
 * stack does not manage (a retired tenant's kept data), and a previous engine's crash is
 * cleaned up (the recovery policy of open-stack.ts). Shared by `npm start`, `npm run
 * preview`, the integration tests and the bench.
 *
 * The live cluster is the truth: every up and preview refreshes the state from the cluster
 * first, so a Deployment deleted by hand, a namespace removed or a recreated (empty) cluster is
 * found and repaired, and "no changes" is only said when the live objects matched.
 */
import type { EngineEvent, PreviewResult, UpResult } from "@pulumi/pulumi/automation";
import type * as k8s from "@kubernetes/client-node";
import { heldOutsideStackMessage, idsHeldOutsideStack } from "../../checks/cluster-view";
import { projectConfig } from "../../tenants/config-source";
import { formatIssues, parseStackConfig } from "../../tenants/validate";
import { summarizeChanges, type TenantChangeSummary } from "./change-summary";
import { recoverStack } from "./open-stack";
import { openProgramStack, tenantIdsInState, type ProgramStack, type ProgramStackOptions } from "./program-stack";

export interface DeployOptions extends ProgramStackOptions {
  /** The cluster to check for namespaces held outside the stack (the one the provider uses). */
  kc: k8s.KubeConfig;
  /** The engine's own progress text, as `pulumi up` prints it. */
  onOutput?: (text: string) => void;
  onEvent?: (event: EngineEvent) => void;
}

export type DeployFailure = "invalid-config" | "held-outside-stack" | "engine";

export type DeployOutcome<R> =
  | { ok: true; result: R; summary: TenantChangeSummary; opened: ProgramStack }
  | { ok: false; failure: DeployFailure; message: string; summary?: TenantChangeSummary; opened?: ProgramStack };

async function prepare(options: DeployOptions): Promise<{ ok: true; opened: ProgramStack } | { ok: false; failure: DeployFailure; message: string; opened?: ProgramStack }> {
  const parsed = parseStackConfig(projectConfig(options.config));
  if (!parsed.ok) return { ok: false, failure: "invalid-config", message: `stack "${options.stackName}": invalid config; nothing changed:\n${formatIssues(parsed.issues)}` };
  const opened = await openProgramStack(options);
  const held = await idsHeldOutsideStack(options.kc, parsed.config.tenants.map((t) => t.id), await tenantIdsInState(opened.stack));
  if (held.length > 0) return { ok: false, failure: "held-outside-stack", message: heldOutsideStackMessage(held), opened };
  return { ok: true, opened };
}

async function run<R>(options: DeployOptions, operation: (opened: ProgramStack, onEvent: (e: EngineEvent) => void) => Promise<R>): Promise<DeployOutcome<R>> {
  const prepared = await prepare(options);
  if (!prepared.ok) return prepared;
  const events: EngineEvent[] = [];
  const onEvent = (event: EngineEvent): void => {
    events.push(event);
    options.onEvent?.(event);
  };
  try {
    const result = await operation(prepared.opened, onEvent);
    return { ok: true, result, summary: summarizeChanges(events), opened: prepared.opened };
  } catch (err) {
    return { ok: false, failure: "engine", message: (err as Error).message, summary: summarizeChanges(events), opened: prepared.opened };
  }
}

export function deployStack(options: DeployOptions): Promise<DeployOutcome<UpResult>> {
  const progress = options.progress ?? (() => undefined);
  return run(options, async ({ stack, engine }, onEvent) => {
    // The one recovery policy (open-stack.ts): a killed update's pending operations are cleared.
    await recoverStack(stack, { engine, progress });
    return stack.up({ refresh: true, onEvent, ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
  });
}

export function previewStack(options: DeployOptions & { expectNoChanges?: boolean }): Promise<DeployOutcome<PreviewResult>> {
  return run(options, ({ stack }, onEvent) => stack.preview({
    refresh: true,
    diff: true,
    onEvent,
    ...(options.expectNoChanges ? { expectNoChanges: true } : {}),
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
  }));
}
