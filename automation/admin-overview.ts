/**
 * The administrators' view of every tenant in the cluster (self-service and pull-request
 * ones): owner, plan, status, node and usage, plus the node distribution. Cluster data comes
 * from the same checks/ functions as the `check:distribution` and `tenants:usage` commands.
 */
import * as k8s from "@kubernetes/client-node";
import { PART_OF, TENANT_LABEL } from "../components/labels";
import { tenantPods, type TenantPod } from "../checks/cluster-view";
import type { DistributionReport } from "../checks/distribution";
import { gatherDistribution } from "../checks/gather-distribution";
import { kubeConfigFromSetting } from "../checks/kube";
import { collectUsage, type TenantUsage } from "../checks/usage";
import { readyPodStatus } from "./cluster-status";
import { listBackupCronJobs } from "./scheduled-backups";
import type { AddressCheck } from "./ingress-health";

export interface ClusterSnapshot {
  namespaces: Array<{ tenant: string; owner?: string; plan?: string; adminEmail?: string }>;
  /** Tenants whose Odoo Deployment exists, with its desired replicas. */
  deployments: Map<string, number>;
  pods: TenantPod[];
  usage: TenantUsage[];
  metricsMessage?: string;
  distribution: DistributionReport;
  /**
   * Each tenant's scheduled backup as Kubernetes recorded it: the CronJob's lastSuccessfulTime
   * (ISO, null when it never succeeded). Absent: not read. One list call, no Job started.
   */
  backups?: Map<string, { lastSuccess: string | null }>;
}

export interface ClusterAdminReader {
  snapshot(): Promise<ClusterSnapshot>;
}

export class KubernetesAdminReader implements ClusterAdminReader {
  constructor(private readonly kc: k8s.KubeConfig) {}

  async snapshot(): Promise<ClusterSnapshot> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const namespaces = (await core.listNamespace({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},${TENANT_LABEL}` })).items.map((ns) => {
      const a = ns.metadata?.annotations ?? {};
      return {
        tenant: ns.metadata?.labels?.[TENANT_LABEL] ?? "?",
        ...(a["odoo-saas.io/owner"] !== undefined ? { owner: a["odoo-saas.io/owner"] } : {}),
        ...(a["odoo-saas.io/plan"] !== undefined ? { plan: a["odoo-saas.io/plan"] } : {}),
        ...(a["odoo-saas.io/admin-email"] !== undefined ? { adminEmail: a["odoo-saas.io/admin-email"] } : {}),
      };
    });
    const deployments = new Map<string, number>();
    const list = await this.kc.makeApiClient(k8s.AppsV1Api).listDeploymentForAllNamespaces({ labelSelector: `app.kubernetes.io/part-of=${PART_OF},app.kubernetes.io/name=odoo` });
    for (const d of list.items) deployments.set(d.metadata?.labels?.[TENANT_LABEL] ?? "?", d.spec?.replicas ?? 1);
    const usage = await collectUsage(this.kc);
    const backups = new Map<string, { lastSuccess: string | null }>();
    for (const c of await listBackupCronJobs(this.kc)) backups.set(c.tenant, { lastSuccess: c.lastSuccess?.toISOString() ?? null });
    return {
      namespaces,
      deployments,
      backups,
      pods: await tenantPods(this.kc),
      usage: usage.tenants,
      ...(usage.metricsMessage !== undefined ? { metricsMessage: usage.metricsMessage } : {}),
      distribution: await gatherDistribution(this.kc),
    };
  }
}

export interface SelfServiceTenant {
  id: string;
  ownerId: string;
  /** Shown instead of the id: administrators know people by e-mail. */
  ownerEmail: string;
  plan: string;
  /** The customer-facing status (customer-status.ts). */
  status: string;
  /** The operator's reason (raw), for administrators. */
  statusReason: string;
  /** When failed: the operation id to look up. */
  reference?: string;
  /** Running and not paused: an administrator may pause it. */
  canSuspend?: boolean;
  /** The kind of its last operation when that failed and can simply be sent again (not a create). */
  retry?: "suspend" | "resume" | "delete";
}

export interface AdminTenantRow {
  id: string;
  source: "self-service" | "pull-request";
  owner: string | null;
  plan: string | null;
  status: string;
  statusReason: string;
  reference: string | null;
  node: string | null;
  cpu: number | null;
  memory: number | null;
  quotaCpu: { used: number; hard: number } | null;
  quotaMemory: { used: number; hard: number } | null;
  storageRequested: number | null;
  /** The scheduled backup's last success (null: never); null when the cluster was not read. */
  backup: { lastSuccess: string | null } | null;
  /** What an operator can do from the overview (self-service tenants only). */
  actions: { suspend: boolean; retry: "suspend" | "resume" | "delete" | null };
}

export interface AdminOverview {
  cluster: { reachable: true } | { reachable: false; reason: string };
  metricsMessage?: string;
  tenants: AdminTenantRow[];
  distribution: DistributionReport | null;
}

/** Tenants the signup server does not manage whose Odoo pod is Ready: their address is still to be asked. */
export function readyWithoutRecords(snapshot: ClusterSnapshot, selfService: readonly Pick<SelfServiceTenant, "id">[]): string[] {
  const mine = new Set(selfService.map((t) => t.id));
  const ready = snapshot.pods.filter((p) => p.component === "odoo" && p.ready && !mine.has(p.tenant) && (snapshot.deployments.get(p.tenant) ?? 0) > 0);
  return [...new Set(ready.map((p) => p.tenant))].sort();
}

/**
 * Status of a tenant the signup server does not manage, from the cluster, in the same vocabulary
 * as customers': like theirs, a Ready pod is "ready" only once its address answered.
 */
function clusterStatus(tenant: string, snapshot: ClusterSnapshot, address: AddressCheck | undefined): { status: string; reason: string } {
  const replicas = snapshot.deployments.get(tenant);
  if (replicas === undefined) return { status: "deleted", reason: "no Odoo Deployment: removed from the config, data kept" };
  if (replicas === 0) return { status: "suspended", reason: "scaled to zero" };
  const odoo = snapshot.pods.filter((p) => p.tenant === tenant && p.component === "odoo");
  if (odoo.some((p) => p.ready)) {
    const seen = readyPodStatus(address);
    return { status: seen.status === "provisioning" ? "starting" : seen.status, reason: seen.reason };
  }
  return { status: "starting", reason: odoo.length === 0 ? "no Odoo pod yet" : `Odoo pod is ${odoo[0]?.phase ?? "Unknown"}` };
}

/** A tenant of the fleet stack's config (pull request) that the cluster reading does not show. */
function fleetRow(id: string, reason: string): AdminTenantRow {
  return {
    id, source: "pull-request", owner: null, plan: null, status: "unknown", statusReason: reason,
    reference: null, node: null, cpu: null, memory: null, quotaCpu: null, quotaMemory: null, storageRequested: null,
    backup: null, actions: NO_ACTIONS,
  };
}

const NO_ACTIONS: AdminTenantRow["actions"] = { suspend: false, retry: null };

function actionsOf(t: SelfServiceTenant | undefined): AdminTenantRow["actions"] {
  return t ? { suspend: t.canSuspend === true, retry: t.retry ?? null } : NO_ACTIONS;
}

/**
 * Every tenant: self-service ones from the records, the fleet stack's (pull-request) ones from its
 * config (fleetTenantIds: they block customers' names, so administrators must see them), and any
 * other tenant namespace in the cluster. Owners by e-mail only, never the account's id.
 */
export function buildOverview(
  selfService: readonly SelfServiceTenant[], snapshot: ClusterSnapshot | { unreachable: string }, fleetTenantIds: Iterable<string> = [],
  /** The public address of tenants in readyWithoutRecords(); absent: not checked. */
  addresses: ReadonlyMap<string, AddressCheck> = new Map(),
): AdminOverview {
  const fleet = [...fleetTenantIds].filter((id) => !selfService.some((t) => t.id === id));
  if ("unreachable" in snapshot) {
    return {
      cluster: { reachable: false, reason: snapshot.unreachable },
      distribution: null,
      tenants: [...selfService.map((t): AdminTenantRow => ({
        id: t.id, source: "self-service", owner: t.ownerEmail || null, plan: t.plan, status: t.status, statusReason: t.statusReason,
        reference: t.reference ?? null, node: null, cpu: null, memory: null, quotaCpu: null, quotaMemory: null, storageRequested: null,
        backup: null, actions: actionsOf(t),
      })), ...fleet.map((id) => fleetRow(id, "in the fleet stack's config; the cluster could not be read"))].sort((a, b) => a.id.localeCompare(b.id)),
    };
  }
  const mine = new Map(selfService.map((t) => [t.id, t]));
  const inFleet = new Set(fleet);
  const ids = [...new Set([...selfService.map((t) => t.id), ...fleet, ...snapshot.namespaces.map((n) => n.tenant)])].sort();
  const tenants = ids.map((id): AdminTenantRow => {
    const own = mine.get(id);
    const ns = snapshot.namespaces.find((n) => n.tenant === id);
    const usage = snapshot.usage.find((u) => u.tenant === id);
    const node = snapshot.pods.find((p) => p.tenant === id && p.component === "odoo")?.node ?? null;
    if (!own && !ns && inFleet.has(id)) return fleetRow(id, "in the fleet stack's config; no namespace in the cluster yet");
    const status = own ? { status: own.status, reason: own.statusReason } : clusterStatus(id, snapshot, addresses.get(id));
    return {
      id,
      source: own ? "self-service" : "pull-request",
      // An e-mail or nothing: the account's id (a UUID) says nothing to a person and is not shown.
      owner: (own ? own.ownerEmail || null : ns?.adminEmail) ?? null,
      plan: own?.plan ?? ns?.plan ?? null,
      status: status.status,
      statusReason: status.reason,
      reference: own?.reference ?? null,
      node,
      cpu: usage?.cpu ?? null,
      memory: usage?.memory ?? null,
      quotaCpu: usage?.quota["limits.cpu"] ?? null,
      quotaMemory: usage?.quota["limits.memory"] ?? null,
      storageRequested: usage?.storageRequested ?? null,
      backup: snapshot.backups?.get(id) ?? null,
      actions: actionsOf(own),
    };
  });
  return {
    cluster: { reachable: true },
    ...(snapshot.metricsMessage !== undefined ? { metricsMessage: snapshot.metricsMessage } : {}),
    tenants,
    distribution: snapshot.distribution,
  };
}

export function adminReaderFromEnv(kubeconfig: string | undefined): ClusterAdminReader | undefined {
  const loaded = kubeConfigFromSetting(kubeconfig);
  return "kc" in loaded ? new KubernetesAdminReader(loaded.kc) : undefined;
}
