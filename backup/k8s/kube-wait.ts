// Polling waits against the API server. Polling (not watches) keeps this simple and robust to
// dropped connections; every wait has a deadline and says what it was waiting for.
import type { AppsV1Api, BatchV1Api, CoreV1Api, V1Job, V1LabelSelector } from "@kubernetes/client-node";

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
}

async function poll<T>(what: string, options: WaitOptions, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
  }
}

/** `a=b,c=d` from a matchLabels selector (the Deployments built by the component use only those). */
export function labelSelectorString(selector: V1LabelSelector | undefined): string {
  const labels = selector?.matchLabels ?? {};
  if (Object.keys(labels).length === 0 || (selector?.matchExpressions?.length ?? 0) > 0) {
    throw new Error("the Deployment's selector must be a non-empty matchLabels selector");
  }
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}

export type JobOutcome = { succeeded: true } | { succeeded: false; reason: string };

export function jobOutcome(job: V1Job): JobOutcome | undefined {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== "True") continue;
    if (condition.type === "Complete" || condition.type === "SuccessCriteriaMet") return { succeeded: true };
    if (condition.type === "Failed" || condition.type === "FailureTarget") {
      return { succeeded: false, reason: `${condition.reason ?? "Failed"}: ${condition.message ?? ""}`.trim() };
    }
  }
  return undefined;
}

export function waitForJob(batch: BatchV1Api, namespace: string, name: string, options: WaitOptions): Promise<JobOutcome> {
  return poll(`Job ${namespace}/${name} to finish`, options, async () => jobOutcome(await batch.readNamespacedJob({ name, namespace })));
}

export function waitForPodsGone(core: CoreV1Api, namespace: string, labelSelector: string, options: WaitOptions): Promise<true> {
  return poll(`pods ${labelSelector} in ${namespace} to terminate`, options, async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector });
    return pods.items.length === 0 ? true : undefined;
  });
}

export function waitForDeploymentReady(apps: AppsV1Api, namespace: string, name: string, replicas: number, options: WaitOptions): Promise<true> {
  return poll(`Deployment ${namespace}/${name} to have ${replicas} ready replicas`, options, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const s = d.status ?? {};
    const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    return observed && (s.readyReplicas ?? 0) >= replicas && (s.updatedReplicas ?? 0) >= replicas ? true : undefined;
  });
}

/** The last lines of the Job's (newest) pod log, for reports; empty when unavailable. */
export async function jobLog(core: CoreV1Api, namespace: string, jobName: string, tailLines?: number): Promise<string> {
  for (const labelSelector of [`batch.kubernetes.io/job-name=${jobName}`, `job-name=${jobName}`]) {
    const pods = await core.listNamespacedPod({ namespace, labelSelector }).catch(() => undefined);
    const newest = (pods?.items ?? []).sort(
      (a, b) => (b.metadata?.creationTimestamp?.getTime() ?? 0) - (a.metadata?.creationTimestamp?.getTime() ?? 0),
    )[0];
    if (!newest?.metadata?.name) continue;
    const log: unknown = await core
      .readNamespacedPodLog({ name: newest.metadata.name, namespace, ...(tailLines !== undefined ? { tailLines } : {}) })
      .catch(() => "");
    return typeof log === "string" ? log : JSON.stringify(log);
  }
  return "";
}
