/**
 * Isolation, probed: short-lived pods send real TCP connections along every path of the README's
 * fence table ("Network fences") and between every pair of tenants. Only a CNI that enforces
 * NetworkPolicies makes this meaningful; the analyser (isolation-analysis.ts) covers clusters
 * without one.
 *
 * Sources, each a pod carrying the labels the policies select on (never a controller's pod):
 * in each tenant's namespace one as its Odoo, one as its backup Job (both database clients), one
 * as its PostgreSQL and one with no role; one in the ingress controller's namespace; one in a
 * namespace outside the platform. Targets are the tenants' Services, cluster DNS, the API
 * server's Service (a private address Odoo's internet egress must exclude) and, in each tenant's
 * namespace, a listener pod with no role that no rule admits (the default deny's own row:
 * without it, such a pod would be open to every namespace).
 */
import type * as k8s from "@kubernetes/client-node";
import { DB_CLIENT_LABEL, PART_OF, TENANT_LABEL, tenantLabels } from "../components/labels";
import { tenantNames } from "../components/naming";

export type Reachability = "open" | "closed";

export interface ProbeTarget {
  name: string;
  host: string;
  port: number;
  expect: Reachability;
  /** The fence-table row this path checks. */
  rule: string;
  /** From one tenant to another: an open one is the breach the probe exists for. */
  crossTenant: boolean;
}

export interface ProbeSource {
  /** The probe pod's name. */
  pod: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  targets: ProbeTarget[];
}

export interface ProbeSettings {
  ingressNamespace: string;
  dnsNamespace: string;
  /** A namespace outside the platform (default: `default`). */
  outsideNamespace: string;
}

export const PROBE_NAME = "isolation-probe";
const PROBE_LABELS = { "app.kubernetes.io/name": PROBE_NAME, "app.kubernetes.io/part-of": PART_OF };

const svc = (id: string, role: "postgres" | "odoo"): string => {
  const n = tenantNames(id);
  return `${role === "postgres" ? n.postgres : n.odoo}.${n.namespace}.svc`;
};

type Role = "odoo" | "backup" | "postgres" | "none";
const ROLES: readonly Role[] = ["odoo", "backup", "postgres", "none"];

function roleLabels(id: string, role: Role): Record<string, string> {
  if (role === "none") return { ...PROBE_LABELS, [TENANT_LABEL]: id };
  const labels: Record<string, string> = { ...tenantLabels(id, role), "odoo-saas.io/isolation-probe": "true" };
  if (role === "odoo" || role === "backup") labels[DB_CLIENT_LABEL] = "true";
  return labels;
}

export const LISTENER_PORT = 8080;

/** Listeners' pod IPs by tenant: each listener must be closed to every source. */
function listenerTargets(listeners: ReadonlyMap<string, string>, from: string | undefined): ProbeTarget[] {
  return [...listeners].map(([id, ip]) => ({
    name: `${id} pod without a role (listener)`, host: ip, port: LISTENER_PORT, expect: "closed",
    rule: "anything to a tenant pod: denied (default deny)", crossTenant: from !== undefined && from !== id,
  }));
}

/** Every source with its targets, for the tenants given (every ordered pair of them). */
export function probePlan(tenants: readonly string[], settings: ProbeSettings, listeners: ReadonlyMap<string, string> = new Map()): ProbeSource[] {
  const dns: ProbeTarget = { name: "cluster DNS", host: `kube-dns.${settings.dnsNamespace}.svc`, port: 53, expect: "open", rule: "any tenant pod reaches cluster DNS", crossTenant: false };
  const sources: ProbeSource[] = [];
  for (const id of tenants) {
    for (const role of ROLES) {
      const from = `${id} ${role === "none" ? "pod without a role" : role === "backup" ? "backup job" : role}`;
      const dbClient = role === "odoo" || role === "backup";
      const targets: ProbeTarget[] = [
        { ...dns },
        { name: `${id} PostgreSQL (own)`, host: svc(id, "postgres"), port: 5432, expect: dbClient ? "open" : "closed", rule: dbClient ? "database clients reach their own PostgreSQL" : "only database clients reach PostgreSQL", crossTenant: false },
        { name: `${id} Odoo (own)`, host: svc(id, "odoo"), port: 8069, expect: "closed", rule: "Odoo admits only the ingress controller", crossTenant: false },
      ];
      if (role === "odoo") targets.push({ name: "API server (private address)", host: "kubernetes.default.svc", port: 443, expect: "closed", rule: "Odoo's internet egress excludes private ranges", crossTenant: false });
      for (const other of tenants) {
        if (other === id) continue;
        for (const [what, host, port] of [["PostgreSQL", svc(other, "postgres"), 5432], ["Odoo", svc(other, "odoo"), 8069], ["Odoo workers", svc(other, "odoo"), 8072]] as const) {
          targets.push({ name: `${other} ${what}`, host, port, expect: "closed", rule: "another tenant: no path", crossTenant: true });
        }
      }
      targets.push(...listenerTargets(listeners, id));
      sources.push({ pod: `${PROBE_NAME}-${role}`, name: from, namespace: tenantNames(id).namespace, labels: roleLabels(id, role), targets });
    }
  }
  const fromOutside = (namespace: string, name: string, odoo: Reachability): ProbeSource => ({
    pod: `${PROBE_NAME}-${namespace === settings.ingressNamespace ? "ingress" : "outside"}`,
    name, namespace, labels: { ...PROBE_LABELS },
    targets: [{ ...dns, rule: "cluster DNS answers (the probe works)" }, ...tenants.flatMap((id): ProbeTarget[] => [
      { name: `${id} Odoo`, host: svc(id, "odoo"), port: 8069, expect: odoo, rule: odoo === "open" ? "the ingress controller's namespace reaches Odoo" : "anything else: denied", crossTenant: false },
      { name: `${id} PostgreSQL`, host: svc(id, "postgres"), port: 5432, expect: "closed", rule: "anything else: denied", crossTenant: false },
    ]), ...listenerTargets(listeners, undefined)],
  });
  sources.push(fromOutside(settings.ingressNamespace, `ingress controller namespace (${settings.ingressNamespace})`, "open"));
  sources.push(fromOutside(settings.outsideNamespace, `outside namespace (${settings.outsideNamespace})`, "closed"));
  return sources;
}

/**
 * Fixed script: targets and expectations arrive as data in $PROBE_TARGETS, never as script text.
 * Every round tries all targets at once; it ends when a round matches every expectation, or after
 * $PROBE_SECONDS with the last round. A new pod's address reaches the policy engine a moment
 * after it starts (kube-router: up to ~1.3 s), and until then either way may be wrong, so one
 * round proves nothing; a path that stays open for the whole time is open.
 */
const PROBE_SCRIPT = [
  'check() { h=${1%:*}; h=${h%:*}; p=${1%:*}; p=${p##*:}; if nc -z -w 2 "$h" "$p" 2>/dev/null; then echo "probe $h:$p open"; else echo "probe $h:$p closed"; fi; }',
  'want=$(for t in $PROBE_TARGETS; do h=${t%:*}; echo "probe $h ${t##*:}"; done | sort)',
  'end=$(( $(date +%s) + PROBE_SECONDS ))',
  'while :; do got=$(for t in $PROBE_TARGETS; do check "$t" & done; wait); got=$(echo "$got" | sort);',
  '  if [ "$got" = "$want" ] || [ "$(date +%s)" -ge "$end" ]; then echo "$got"; exit 0; fi; sleep 1; done',
].join("\n");

export interface ProbeOwner { name: string; uid: string }

const ownedBy = (owner: ProbeOwner): k8s.V1OwnerReference[] => [{ apiVersion: "v1", kind: "ConfigMap", name: owner.name, uid: owner.uid, controller: true }];

const RESTRICTED: k8s.V1SecurityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
const POD_SECURITY: k8s.V1PodSecurityContext = { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } };
const RESOURCES: k8s.V1ResourceRequirements = { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } };

/** A pod with no role in the tenant's namespace, listening on LISTENER_PORT; Ready once it accepts connections (from itself). */
export function listenerPod(tenant: string, image: string, owner: ProbeOwner): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${PROBE_NAME}-listener`, namespace: tenantNames(tenant).namespace, labels: { ...PROBE_LABELS, [TENANT_LABEL]: tenant }, ownerReferences: ownedBy(owner) },
    spec: {
      restartPolicy: "Never",
      activeDeadlineSeconds: 600,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: POD_SECURITY,
      containers: [{
        name: "listener",
        image,
        command: ["nc", "-l", "-k", String(LISTENER_PORT)],
        readinessProbe: { exec: { command: ["nc", "-z", "-w", "1", "127.0.0.1", String(LISTENER_PORT)] }, periodSeconds: 1 },
        resources: RESOURCES,
        securityContext: RESTRICTED,
      }],
    },
  };
}

export function probePod(source: ProbeSource, image: string, owner: ProbeOwner, seconds = 30): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: source.pod,
      namespace: source.namespace,
      labels: source.labels,
      // Owned by the run's ConfigMap, so no ReplicaSet or StatefulSet whose selector the labels
      // match adopts the pod, and deleting the ConfigMap removes every probe.
      ownerReferences: ownedBy(owner),
    },
    spec: {
      restartPolicy: "Never",
      activeDeadlineSeconds: seconds + 90,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: POD_SECURITY,
      containers: [{
        name: "probe",
        image,
        command: ["sh", "-c", PROBE_SCRIPT],
        env: [
          { name: "PROBE_TARGETS", value: source.targets.map((t) => `${t.host}:${t.port}:${t.expect}`).join(" ") },
          { name: "PROBE_SECONDS", value: String(seconds) },
        ],
        // Never Ready: a probe with Odoo's or PostgreSQL's labels never joins their Service.
        readinessProbe: { exec: { command: ["false"] }, periodSeconds: 3600 },
        resources: RESOURCES,
        securityContext: RESTRICTED,
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
  from: string;
  actual: Reachability | "no answer";
  ok: boolean;
}

export function judge(source: ProbeSource, results: Map<string, Reachability>): ProbeVerdict[] {
  return source.targets.map((t) => {
    const actual = results.get(`${t.host}:${t.port}`) ?? "no answer";
    return { ...t, from: source.name, actual, ok: actual === t.expect };
  });
}

/** 0 every fence as designed; 3 a path the table denies is open; 1 only paths that must exist are closed. */
export function exitCodeOf(verdicts: readonly ProbeVerdict[]): 0 | 1 | 3 {
  if (verdicts.some((v) => !v.ok && v.actual === "open")) return 3;
  return verdicts.every((v) => v.ok) ? 0 : 1;
}

/** KWOK nodes run no containers and no CNI: nothing there enforces NetworkPolicies. */
export function isSimulated(nodes: readonly k8s.V1Node[]): boolean {
  return nodes.length > 0 && nodes.every((n) => n.metadata?.annotations?.["kwok.x-k8s.io/node"] !== undefined);
}
