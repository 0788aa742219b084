/**
 * Isolation, analysed: from NetworkPolicies (as stored in the API server) and the tenants'
 * pod templates, compute which connections are allowed between every tenant's pods, the
 * ingress controller, cluster DNS, other namespaces and the internet, and check the rules:
 *   - no path from one tenant to another;
 *   - each tenant's Odoo (and backup job) reaches its own PostgreSQL, and DNS;
 *   - Odoo accepts connections only from the ingress controller's namespace.
 * Pure: the CLI (scripts/check-policies.ts) gathers the inputs from a cluster.
 */
import { connectionAllowed, type Connection, type Endpoint, type NetworkPolicyLike } from "./network-policy-eval";

export interface TenantEndpoints {
  id: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  /** Pod labels per role, from the Deployment/StatefulSet/CronJob templates. */
  odoo?: Record<string, string>;
  postgres?: Record<string, string>;
  backup?: Record<string, string>;
}

export interface AnalysisInput {
  tenants: TenantEndpoints[];
  policies: NetworkPolicyLike[];
  ingressNamespace: string;
  dnsNamespace: string;
}

export interface Probe {
  from: Endpoint;
  to: Endpoint;
  conn: Connection;
  /** What the rules require; undefined = informational only. */
  expect?: boolean;
  rule: string;
}

export interface ProbeResult extends Probe {
  allowed: boolean;
  reason: string;
}

export interface Analysis {
  results: ProbeResult[];
  violations: ProbeResult[];
}

const nsLabels = (ns: string): Record<string, string> => ({ "kubernetes.io/metadata.name": ns });
const INTERNET: Endpoint = { kind: "external", name: "internet (203.0.113.10)", ip: "203.0.113.10" };

function pod(t: TenantEndpoints, role: "odoo" | "postgres" | "backup"): Endpoint | undefined {
  const labels = t[role];
  return labels === undefined ? undefined : { kind: "pod", name: `${t.id}/${role}`, namespace: t.namespace, namespaceLabels: t.namespaceLabels, labels };
}

export function probes(input: AnalysisInput): Probe[] {
  const ingressController: Endpoint = { kind: "pod", name: `${input.ingressNamespace} (ingress controller)`, namespace: input.ingressNamespace, namespaceLabels: nsLabels(input.ingressNamespace), labels: { "app.kubernetes.io/name": "ingress-controller" } };
  const dns: Endpoint = { kind: "pod", name: "cluster DNS", namespace: input.dnsNamespace, namespaceLabels: nsLabels(input.dnsNamespace), labels: { "k8s-app": "kube-dns" } };
  const outsider: Endpoint = { kind: "pod", name: "default/any-pod", namespace: "default", namespaceLabels: nsLabels("default"), labels: { app: "anything" } };
  const list: Probe[] = [];
  const tcp = (port: number): Connection => ({ port, protocol: "TCP" });
  for (const t of input.tenants) {
    const odoo = pod(t, "odoo");
    const postgres = pod(t, "postgres");
    const backup = pod(t, "backup");
    if (odoo && postgres) list.push({ from: odoo, to: postgres, conn: tcp(5432), expect: true, rule: "Odoo reaches its own PostgreSQL" });
    if (backup && postgres) list.push({ from: backup, to: postgres, conn: tcp(5432), expect: true, rule: "the backup job reaches its own PostgreSQL" });
    if (odoo) {
      list.push({ from: odoo, to: dns, conn: { port: 53, protocol: "UDP" }, expect: true, rule: "Odoo resolves names (DNS)" });
      list.push({ from: ingressController, to: odoo, conn: tcp(8069), expect: true, rule: "the ingress controller reaches Odoo" });
      list.push({ from: outsider, to: odoo, conn: tcp(8069), expect: false, rule: "Odoo accepts only the ingress controller" });
      list.push({ from: INTERNET, to: odoo, conn: tcp(8069), expect: false, rule: "Odoo accepts only the ingress controller" });
      list.push({ from: odoo, to: INTERNET, conn: tcp(443), rule: "Odoo reaches the internet (HTTPS)" });
    }
    if (postgres) {
      list.push({ from: outsider, to: postgres, conn: tcp(5432), expect: false, rule: "PostgreSQL is closed to other namespaces" });
      list.push({ from: ingressController, to: postgres, conn: tcp(5432), expect: false, rule: "PostgreSQL is closed to the ingress controller" });
    }
    for (const other of input.tenants) {
      if (other.id === t.id) continue;
      for (const srcRole of ["odoo", "postgres", "backup"] as const) {
        const src = pod(t, srcRole);
        if (!src) continue;
        for (const [dstRole, port] of [["odoo", 8069], ["odoo", 8072], ["postgres", 5432]] as const) {
          const dst = pod(other, dstRole);
          if (dst) list.push({ from: src, to: dst, conn: tcp(port), expect: false, rule: "no path between tenants" });
        }
      }
    }
  }
  return list;
}

export function analyse(input: AnalysisInput): Analysis {
  const results = probes(input).map((p) => ({ ...p, ...connectionAllowed(input.policies, p.from, p.to, p.conn) }));
  return { results, violations: results.filter((r) => r.expect !== undefined && r.allowed !== r.expect) };
}

/** The connection matrix: one row per source, one column per destination:port. */
export function matrix(analysis: Analysis): { headers: string[]; rows: string[][] } {
  const columns = [...new Set(analysis.results.map((r) => `${r.to.name}:${r.conn.port}${r.conn.protocol === "UDP" ? "/udp" : ""}`))];
  const sources = [...new Set(analysis.results.map((r) => r.from.name))];
  const rows = sources.map((source) => [source, ...columns.map((column) => {
    const r = analysis.results.find((x) => x.from.name === source && `${x.to.name}:${x.conn.port}${x.conn.protocol === "UDP" ? "/udp" : ""}` === column);
    if (!r) return "";
    const mark = r.allowed ? "allow" : "deny";
    return r.expect !== undefined && r.allowed !== r.expect ? `${mark}!` : mark;
  })]);
  return { headers: ["from \\ to", ...columns], rows };
}
