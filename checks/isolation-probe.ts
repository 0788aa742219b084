/**
 * Isolation, probed: a short-lived pod in tenant A's namespace tries to open TCP connections
 * to A's and B's services. Only a CNI that enforces NetworkPolicies makes this meaningful;
 * the analyser (isolation-analysis.ts) covers clusters without one.
 */
import type * as k8s from "@kubernetes/client-node";
import { DB_CLIENT_LABEL, PART_OF, TENANT_LABEL } from "../components/labels";
import { tenantNames } from "../components/naming";

export type Reachability = "open" | "closed";

export interface ProbeTarget {
  name: string;
  host: string;
  port: number;
  expect: Reachability;
}

/** From A's namespace, as a database client: A's PostgreSQL must answer, nothing of B's may. The first target must be open (the probe waits for it). */
export function probeTargets(a: string, b: string): ProbeTarget[] {
  const svc = (id: string, role: "postgres" | "odoo"): string => `${role === "postgres" ? tenantNames(id).postgres : tenantNames(id).odoo}.${tenantNames(id).namespace}.svc`;
  return [
    { name: `${a} PostgreSQL (own)`, host: svc(a, "postgres"), port: 5432, expect: "open" },
    // Odoo admits only the ingress controller, even from its own namespace.
    { name: `${a} Odoo (own, not from the ingress controller)`, host: svc(a, "odoo"), port: 8069, expect: "closed" },
    { name: `${b} PostgreSQL`, host: svc(b, "postgres"), port: 5432, expect: "closed" },
    { name: `${b} Odoo`, host: svc(b, "odoo"), port: 8069, expect: "closed" },
  ];
}

export const PROBE_NAME = "isolation-probe";

/**
 * Fixed script: targets arrive as data in $PROBE_TARGETS, never as script text. A new pod's
 * address reaches the policy engine a moment after it starts (kube-router: up to ~1.3 s), so it
 * first waits, at most 20 s, for the first target (the path that must exist) to answer; then
 * "closed" means closed.
 */
const PROBE_SCRIPT = 'f=${PROBE_TARGETS%% *}; i=0; while [ $i -lt 20 ] && ! nc -z -w 1 "${f%:*}" "${f##*:}"; do i=$((i+1)); sleep 1; done; '
  + 'for t in $PROBE_TARGETS; do if nc -z -w 3 "${t%:*}" "${t##*:}"; then echo "probe $t open"; else echo "probe $t closed"; fi; done';

export function probePod(tenant: string, targets: readonly ProbeTarget[], image: string): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: PROBE_NAME,
      namespace: tenantNames(tenant).namespace,
      labels: {
        "app.kubernetes.io/name": PROBE_NAME,
        "app.kubernetes.io/part-of": PART_OF,
        [TENANT_LABEL]: tenant,
        // Probes as a database client would, so "own PostgreSQL" is a path that must exist.
        [DB_CLIENT_LABEL]: "true",
      },
    },
    spec: {
      restartPolicy: "Never",
      activeDeadlineSeconds: 120,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: "probe",
        image,
        command: ["sh", "-c", PROBE_SCRIPT],
        env: [{ name: "PROBE_TARGETS", value: targets.map((t) => `${t.host}:${t.port}`).join(" ") }],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
      }],
    },
  };
}

export function parseProbeLog(log: string): Map<string, Reachability> {
  const results = new Map<string, Reachability>();
  for (const line of log.split("\n")) {
    const match = /^probe (\S+) (open|closed)$/.exec(line.trim());
    if (match) results.set(match[1] as string, match[2] as Reachability);
  }
  return results;
}

export interface ProbeVerdict extends ProbeTarget {
  actual: Reachability | "no answer";
  ok: boolean;
}

export function judge(targets: readonly ProbeTarget[], results: Map<string, Reachability>): ProbeVerdict[] {
  return targets.map((t) => {
    const actual = results.get(`${t.host}:${t.port}`) ?? "no answer";
    return { ...t, actual, ok: actual === t.expect };
  });
}

/** KWOK nodes run no containers and no CNI: nothing there enforces NetworkPolicies. */
export function isSimulated(nodes: readonly k8s.V1Node[]): boolean {
  return nodes.length > 0 && nodes.every((n) => n.metadata?.annotations?.["kwok.x-k8s.io/node"] !== undefined);
}
