/**
 * Pods and probes for the two-node test (test/node/two-nodes.test.ts), on a cluster of its own
 * (not the node suite's one-node cluster, so these take its KubeConfig): small web servers and a
 * client, and a TCP probe run in the client over pods/exec (its target as argv, never code text).
 */
import * as fs from "node:fs";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { restrictedContainer, waitFor } from "./real-cluster";

// Connects to argv[1]:argv[2] within 2 s and says whether the connection opened.
const PROBE = `import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    print("open")
except OSError as e:
    print("blocked", e)`;

export interface PodPlan {
  name: string;
  namespace: string;
  image: string;
  command: string[];
  labels?: Record<string, string>;
  affinity?: k8s.V1Affinity;
  nodeName?: string;
}

export async function createPod(kc: k8s.KubeConfig, plan: PodPlan): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
    namespace: plan.namespace,
    body: {
      metadata: { name: plan.name, labels: plan.labels ?? {} },
      spec: {
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, seccompProfile: { type: "RuntimeDefault" } },
        containers: [restrictedContainer("main", plan.image, plan.command)],
        ...(plan.affinity !== undefined ? { affinity: plan.affinity } : {}),
        ...(plan.nodeName !== undefined ? { nodeSelector: { "kubernetes.io/hostname": plan.nodeName } } : {}),
      },
    },
  });
}

/** Waits until the pod runs with an IP; returns it. */
export function running(kc: k8s.KubeConfig, namespace: string, name: string): Promise<k8s.V1Pod> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return waitFor(`pod ${namespace}/${name} running`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace });
    return pod.status?.phase === "Running" && pod.status.podIP !== undefined ? pod : undefined;
  }, 120_000);
}

/** Runs the TCP probe in the client pod: "open" or "blocked <why>". */
export function probe(kc: k8s.KubeConfig, namespace: string, pod: string, host: string, port: number): Promise<string> {
  const out: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`probe of ${host}:${port}: no status within 30 s`)), 30_000);
    new k8s.Exec(kc)
      .exec(namespace, pod, "main", ["python3", "-c", PROBE, host, String(port)], stdout, stderr, null, false, (status) => {
        clearTimeout(timer);
        setImmediate(() => (status.status === "Success"
          ? resolve(Buffer.concat(out).toString("utf8").trim())
          : reject(new Error(`probe of ${host}:${port} failed: ${status.message ?? ""}`))));
      })
      .catch((e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

/** Probes until every target gives the wanted answer (kube-router applies a policy within seconds). */
export async function until(kc: k8s.KubeConfig, client: { namespace: string; name: string }, targets: Array<[string, number]>, want: "open" | "blocked"): Promise<string[]> {
  return waitFor(`${targets.map(([h, p]) => `${h}:${p}`).join(", ")} ${want}`, async () => {
    const answers = await Promise.all(targets.map(([h, p]) => probe(kc, client.namespace, client.name, h, p)));
    return answers.every((a) => a.split(" ")[0] === want) ? answers : undefined;
  }, 60_000);
}

/** Resident memory of a process in MiB, from /proc (0 when it ended meanwhile). */
export function rssMiB(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0;
  }
}
