/**
 * A ClusterStatusReader whose observations the test sets: which tenants have a Ready Odoo
 * pod, or that the cluster cannot be read, with an ingress stand-in (a real HTTP server) that
 * answers /web/health for those tenants' host names, unless the test silenced one. The browser
 * tests use it to walk the customer status through starting -> ready -> suspended -> unknown
 * without a Kubernetes cluster; the real reader (KubernetesStatusReader) is tested against an
 * API server in test/api/status, and the whole path on the real node in test/node.
 */
import type { ClusterAdminReader, ClusterSnapshot } from "../../automation/admin-overview";
import type { ClusterObservation, ClusterStatusReader } from "../../automation/cluster-status";
import { distribution } from "../../checks/distribution";
import { IngressStandin } from "./ingress-standin";

export class ObservedCluster implements ClusterStatusReader {
  /** Tenants whose Odoo pod is Running and Ready (its health check answers). */
  readonly ready = new Set<string>();
  /** Tenants whose pod is Ready but whose address does not answer through the ingress. */
  readonly silent = new Set<string>();
  /** When set, every read fails with this reason. */
  unreachable: string | undefined;
  /** The harness gives the server this ingress's URL (ODOO_SAAS_INGRESS_URL). */
  readonly ingress = new IngressStandin((id) => this.ready.has(id) && !this.silent.has(id));

  async observe(tenantId: string): Promise<ClusterObservation> {
    if (this.unreachable !== undefined) return { reachable: false, reason: this.unreachable };
    return {
      reachable: true,
      pods: this.ready.has(tenantId) ? [{ name: `${tenantId}-odoo-1`, phase: "Running", ready: true, deleting: false }] : [],
    };
  }
}

/** The admin overview's cluster reads for the same set-up: nodes, and no tenant running on them. */
export class EmptyClusterAdmin implements ClusterAdminReader {
  async snapshot(): Promise<ClusterSnapshot> {
    const nodes = ["node-1", "node-2"];
    return { namespaces: [], deployments: new Map(), pods: [], usage: [], distribution: distribution({ nodes, runningTenants: [], odooPods: [] }) };
  }
}
