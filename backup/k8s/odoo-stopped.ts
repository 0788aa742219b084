// Odoo scaled to 0 while a restore switches its database, and back afterwards, written once for
// the backup restore (restore-tenant.ts) and the upload restore (automation/kube-upload-restorer.ts).
// The replicas to return to are recorded on the Deployment in the same patch that scales it to 0,
// so a restore that died half-way leaves them there: the next restore, or `scaleBackRecorded`,
// returns to them instead of taking its 0 for the truth.
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type CoreV1Api, type V1Deployment } from "@kubernetes/client-node";
import { labelSelectorString, waitForDeploymentReady, waitForPodsGone } from "./kube-wait";
import { REPLICAS_BEFORE_RESTORE_ANNOTATION } from "./names";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface OdooStopOptions {
  /** How long Odoo's pods may take to go, and to be ready again (default 10 min each). */
  stopTimeoutMs?: number;
  readyTimeoutMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

export interface OdooStopped<T> {
  /** The replicas Odoo had before (the recorded ones after an interrupted restore), and was scaled back to. */
  replicas: number;
  /** The work's result, or why it (or waiting for Odoo's pods to go) failed. */
  outcome: { ok: true; value: T } | { ok: false; error: Error };
  /** Odoo could not be brought back (the patch, or its readiness): needs a person. */
  scaleBackError?: string;
}

/** The replicas to return to: the recorded ones when a restore died half-way, else the current ones. */
export function replicasBeforeStop(deployment: V1Deployment): number {
  const recorded = deployment.metadata?.annotations?.[REPLICAS_BEFORE_RESTORE_ANNOTATION];
  if (recorded !== undefined && /^\d+$/.test(recorded)) return Number(recorded);
  return deployment.spec?.replicas ?? 1;
}

function scale(apps: AppsV1Api, namespace: string, name: string, replicas: number, record: string | null): Promise<V1Deployment> {
  return apps.patchNamespacedDeployment(
    { name, namespace, body: { metadata: { annotations: { [REPLICAS_BEFORE_RESTORE_ANNOTATION]: record } }, spec: { replicas } } },
    mergePatch,
  );
}

/**
 * `work` runs with Odoo at 0 replicas and its pods gone; Odoo goes back to its replicas (and is
 * waited ready) whatever happened. Nothing thrown by `work` escapes: it is in `outcome`.
 */
export async function withOdooStopped<T>(
  kube: { apps: AppsV1Api; core: CoreV1Api },
  target: { namespace: string; deployment: string },
  work: () => Promise<T>,
  options: OdooStopOptions = {},
): Promise<OdooStopped<T>> {
  const { apps, core } = kube;
  const { namespace, deployment: name } = target;
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 3000;
  const deployment = await apps.readNamespacedDeployment({ name, namespace });
  const selector = labelSelectorString(deployment.spec?.selector);
  const replicas = replicasBeforeStop(deployment);
  log(`scaling ${namespace}/${name} from ${replicas} to 0`);
  await scale(apps, namespace, name, 0, String(replicas));
  let outcome: OdooStopped<T>["outcome"];
  try {
    await waitForPodsGone(core, namespace, selector, { timeoutMs: options.stopTimeoutMs ?? 10 * 60_000, pollMs });
    outcome = { ok: true, value: await work() };
  } catch (err) {
    outcome = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
  try {
    log(`scaling ${namespace}/${name} back to ${replicas}`);
    await scale(apps, namespace, name, replicas, null);
    if (replicas > 0) await waitForDeploymentReady(apps, namespace, name, replicas, { timeoutMs: options.readyTimeoutMs ?? 10 * 60_000, pollMs });
    return { replicas, outcome };
  } catch (err) {
    const scaleBackError = (err as Error).message;
    log(`Odoo did not come back: ${scaleBackError}`);
    return { replicas, outcome, scaleBackError };
  }
}

/**
 * After a process died during a restore: Odoo back to the replicas recorded when it was scaled
 * to 0, and the record removed. Says what it did, for the log.
 */
export async function scaleBackRecorded(apps: AppsV1Api, target: { namespace: string; deployment: string }): Promise<string> {
  const { namespace, deployment: name } = target;
  const deployment = await apps.readNamespacedDeployment({ name, namespace });
  const recorded = deployment.metadata?.annotations?.[REPLICAS_BEFORE_RESTORE_ANNOTATION];
  if (recorded === undefined) return `Deployment ${namespace}/${name} was not scaled down by a restore (replicas ${deployment.spec?.replicas ?? "unset"})`;
  const replicas = /^\d+$/.test(recorded) ? Number(recorded) : 1;
  await scale(apps, namespace, name, replicas, null);
  return `Deployment ${namespace}/${name} scaled back to ${replicas} replicas`;
}
