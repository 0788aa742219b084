/**
 * The node suite's cluster: one local control plane with the real node (scripts/local-cluster,
 * LOCAL_CLUSTER_REAL_NODES=1) for every file of the suite, started by the root hooks below
 * (test/mocharc.node.json requires this module) and taken down after the last test. One KWOK
 * node stays, tainted, so nothing lands there by accident. Helpers run short-lived pods on the
 * real node and read their logs through the API server (which asks the kubelet).
 */
import * as k8s from "@kubernetes/client-node";
import { startLocalCluster, type LocalCluster } from "../../local/local-cluster";

let cluster: LocalCluster | undefined;

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(1_000_000);
    const t0 = Date.now();
    cluster = startLocalCluster(1, 2, { realNode: true, realPvs: 16 });
    console.log(`      (local cluster with a real node up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  },
  afterAll(this: Mocha.Context): void {
    this.timeout(180_000);
    cluster?.down();
    cluster = undefined;
  },
};

export function realCluster(): LocalCluster {
  if (cluster === undefined) throw new Error("the node suite's cluster is not up (run with test/mocharc.node.json)");
  return cluster;
}

export function image(name: string): string {
  const ref = realCluster().images[name];
  if (ref === undefined) throw new Error(`image ${name} was not imported into the real node`);
  return ref;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(500);
  }
}

/** A namespace enforcing the "restricted" Pod Security Standard, as tenant namespaces do. */
export async function restrictedNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "restricted", ...labels } } } });
  await waitFor(`ServiceAccount ${name}/default`, async () => (await core.readNamespacedServiceAccount({ name: "default", namespace: name })) ?? undefined, 60_000);
}

/** A container spec the "restricted" standard admits. */
export function restrictedContainer(name: string, imageRef: string, command: string[], env: Record<string, string> = {}): k8s.V1Container {
  return {
    name, image: imageRef, command,
    env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
  };
}

/**
 * Runs python3 CODE in a pod of the Odoo stand-in image (it has python3 and psycopg2) until it
 * ends; returns its phase and log. `env` reaches the code as environment variables, never as text.
 */
export async function runPython(namespace: string, name: string, code: string, opts: { env?: Record<string, string>; labels?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ phase: string; log: string }> {
  const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: opts.labels ?? {} },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, seccompProfile: { type: "RuntimeDefault" } },
        containers: [restrictedContainer("python", image("odoo-standin"), ["python3", "-c", code], opts.env)],
      },
    },
  });
  const phase = await waitFor(`pod ${namespace}/${name} to end`, async () => {
    const p = (await core.readNamespacedPod({ name, namespace })).status?.phase;
    return p === "Succeeded" || p === "Failed" ? p : undefined;
  }, opts.timeoutMs ?? 120_000);
  const log = await core.readNamespacedPodLog({ name, namespace });
  return { phase, log };
}

export async function podReady(namespace: string, labelSelector: string): Promise<k8s.V1Pod | undefined> {
  const core = realCluster().kc.makeApiClient(k8s.CoreV1Api);
  const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items;
  return pods.find((p) => p.metadata?.deletionTimestamp === undefined
    && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
}
