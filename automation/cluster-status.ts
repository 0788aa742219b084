/**
 * A tenant's status, derived from the readiness of its Odoo pod (namespace `tenant-<id>`,
 * labels `app.kubernetes.io/name=odoo`, `app.kubernetes.io/instance=<id>`) and from its last
 * operation. The design documents' version said "running" for a namespace without pods
 * (`all([])` is true) and for pods Running but not Ready; here no pod is not ready, and
 * a Ready pod is not yet "ready" either: that needs the tenant's public address to have answered
 * a health request through the ingress (ingress-health.ts), since a Ready pod behind a missing
 * route or DNS name is still an instance the customer cannot open.
 */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, selectorLabels, TENANT_LABEL } from "../components/labels";
import { tenantNames } from "../components/naming";
import { kubeConfigFromSetting } from "../checks/kube";
import type { AddressCheck } from "./ingress-health";
import type { OperationRecord, TenantRecord } from "./records/types";

/** `unknown`: the cluster could not be read, so readiness was not observed (the reason says why). */
export type TenantStatus = "provisioning" | "ready" | "error" | "suspended" | "deleting" | "unknown";

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  deleting: boolean;
  /** Why a container cannot start (CrashLoopBackOff, ImagePullBackOff, ...), when it cannot. */
  waitingReason?: string;
}

export type ClusterObservation =
  /** `address`: the public address through the ingress, checked once the pod is Ready; absent: not checked. */
  | { reachable: true; pods: PodSummary[]; address?: AddressCheck }
  | { reachable: false; reason: string };

/** Container states that will not resolve by waiting. */
const STUCK_REASONS = new Set([
  "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
]);

export function podSummary(pod: k8s.V1Pod): PodSummary {
  const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waitingReason = statuses.map((s) => s.state?.waiting?.reason).find((r): r is string => r !== undefined && STUCK_REASONS.has(r));
  return {
    name: pod.metadata?.name ?? "",
    phase: pod.status?.phase ?? "Unknown",
    ready,
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    ...(waitingReason !== undefined ? { waitingReason } : {}),
  };
}

/** Ready only when some pod is Running, has the Ready condition and is not being deleted. */
export function odooReadiness(pods: readonly PodSummary[]): { ready: boolean; stuck?: string; reason: string } {
  if (pods.length === 0) return { ready: false, reason: "no Odoo pod yet" };
  if (pods.some((p) => p.phase === "Running" && p.ready && !p.deleting)) return { ready: true, reason: "Odoo pod is ready" };
  const stuck = pods.find((p) => p.waitingReason !== undefined);
  if (stuck) return { ready: false, stuck: `${stuck.name}: ${stuck.waitingReason}`, reason: `Odoo cannot start (${stuck.waitingReason})` };
  const failed = pods.find((p) => p.phase === "Failed");
  if (failed && pods.every((p) => p.phase === "Failed")) return { ready: false, stuck: `${failed.name}: Failed`, reason: "Odoo pod failed" };
  const running = pods.find((p) => p.phase === "Running");
  return { ready: false, reason: running ? "Odoo is running but not ready yet" : `Odoo pod is ${pods[0]?.phase ?? "Unknown"}` };
}

export interface StatusInput {
  tenant: Pick<TenantRecord, "state" | "suspended">;
  /** Operations of the tenant still queued or running, oldest first. */
  pending: readonly Pick<OperationRecord, "kind">[];
  lastOperation?: Pick<OperationRecord, "kind" | "status" | "error">;
  cluster: ClusterObservation;
}

/**
 * Precedence: a pending delete (deleting) > a failed last operation (error) > a signup not
 * yet applied (provisioning) > suspended (unless a resume is pending) > the Odoo pod's
 * readiness. Without a cluster reading the status is `unknown`, with the reason: an applied
 * operation says what was asked for, not that Odoo runs.
 */
export function deriveTenantStatus(input: StatusInput): { status: TenantStatus; reason: string } {
  const { tenant, pending, lastOperation, cluster } = input;
  if (pending.some((op) => op.kind === "delete")) return { status: "deleting", reason: "removal queued or running" };
  if (tenant.state === "failed" || lastOperation?.status === "failed") {
    return { status: "error", reason: lastOperation?.error?.message ?? "the last operation failed" };
  }
  if (tenant.state === "pending") return { status: "provisioning", reason: "signup accepted; the stack update is queued or running" };
  const last = pending.at(-1);
  const suspendedWanted = last?.kind === "suspend" ? true : last?.kind === "resume" ? false : tenant.suspended;
  if (suspendedWanted && tenant.suspended) return { status: "suspended", reason: "Odoo is scaled to zero; data kept" };
  if (!cluster.reachable) {
    if (last?.kind === "resume") return { status: "provisioning", reason: "resume queued or running (cluster not reachable)" };
    return { status: "unknown", reason: `readiness not observed: ${cluster.reason}` };
  }
  const readiness = odooReadiness(cluster.pods);
  if (readiness.ready) return readyPodStatus(cluster.address);
  if (readiness.stuck !== undefined) return { status: "error", reason: readiness.reason };
  return { status: "provisioning", reason: readiness.reason };
}

/** A Ready Odoo pod's status: "ready" only once its public address answered through the ingress. */
export function readyPodStatus(address: AddressCheck | undefined): { status: "ready" | "provisioning" | "unknown"; reason: string } {
  const seen = address ?? { checked: false, reason: "its public address was not checked" };
  if (!seen.checked) return { status: "unknown", reason: `Odoo pod is ready, but whether it answers is unknown, because ${seen.reason}` };
  if (!seen.answered) return { status: "provisioning", reason: `Odoo pod is ready, but its public address does not answer yet: ${seen.reason}` };
  return { status: "ready", reason: "Odoo answered its health check through the ingress by its host name" };
}

export interface ClusterStatusReader {
  observe(tenantId: string): Promise<ClusterObservation>;
  /** Many tenants with one read (listings of hundreds); readers without it are asked per tenant. */
  observeMany?(tenantIds: readonly string[]): Promise<Map<string, ClusterObservation>>;
}

/** Reads nothing: used when no cluster is configured. */
export class NoClusterReader implements ClusterStatusReader {
  constructor(private readonly reason = "no cluster configured") {}
  async observe(): Promise<ClusterObservation> {
    return { reachable: false, reason: this.reason };
  }
}

/** Lists the tenant's Odoo pods with @kubernetes/client-node; any failure is "unreachable". */
export class KubernetesStatusReader implements ClusterStatusReader {
  private readonly core: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig, private readonly timeoutMs = 3_000) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  private async timed<T>(read: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async observe(tenantId: string): Promise<ClusterObservation> {
    const namespace = tenantNames(tenantId).namespace;
    const labelSelector = Object.entries(selectorLabels(tenantId, "odoo")).map(([k, v]) => `${k}=${v}`).join(",");
    try {
      const list = await this.timed(this.core.listNamespacedPod({ namespace, labelSelector }));
      return { reachable: true, pods: list.items.map(podSummary) };
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return { reachable: true, pods: [] };
      return unreachable(err);
    }
  }

  /** Every tenant's Odoo pods with one list across namespaces. */
  async observeMany(tenantIds: readonly string[]): Promise<Map<string, ClusterObservation>> {
    const result = new Map<string, ClusterObservation>();
    try {
      const list = await this.timed(this.core.listPodForAllNamespaces({ labelSelector: `app.kubernetes.io/name=odoo,app.kubernetes.io/part-of=${PART_OF}` }));
      const pods = new Map<string, PodSummary[]>();
      for (const pod of list.items) {
        const tenant = pod.metadata?.labels?.[TENANT_LABEL];
        if (tenant !== undefined) pods.set(tenant, [...(pods.get(tenant) ?? []), podSummary(pod)]);
      }
      for (const id of tenantIds) result.set(id, { reachable: true, pods: pods.get(id) ?? [] });
    } catch (err) {
      const observation = unreachable(err);
      for (const id of tenantIds) result.set(id, observation);
    }
    return result;
  }
}

function unreachable(err: unknown): ClusterObservation {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message.split("\n")[0] ?? "" : "";
  return { reachable: false, reason: `cluster not reachable${typeof code === "number" ? ` (HTTP ${code})` : ""}: ${message.slice(0, 200)}` };
}

/** KUBECONFIG (or ~/.kube/config, or in-cluster), as kubectl finds it; "none" disables. */
export function clusterReaderFromEnv(kubeconfig: string | undefined): ClusterStatusReader {
  if (kubeconfig === "none") return new NoClusterReader();
  const loaded = kubeConfigFromSetting(kubeconfig);
  return "kc" in loaded ? new KubernetesStatusReader(loaded.kc) : new NoClusterReader(loaded.unusable);
}
