/**
 * Decides whether Kubernetes NetworkPolicies allow a connection, following the API's
 * semantics: a pod is isolated in a direction once any policy selecting it lists that
 * direction; a connection needs the source's egress AND the destination's ingress to allow
 * it; rules are unions. Used by the unit tests and the isolation analyser.
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | string;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}
export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}
export interface NetworkPolicyLike {
  metadata: { name?: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

/** A pod (in a namespace, with labels and named ports) or an address outside the cluster. */
export type Endpoint =
  | { kind: "pod"; name: string; namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string>; namedPorts?: Record<string, number> }
  | { kind: "external"; name: string; ip: string };

export interface Connection {
  port: number;
  protocol?: "TCP" | "UDP" | "SCTP";
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    // Own labels only: a selector key such as "constructor" must not meet Object.prototype.
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const inValues = has && (req.values ?? []).includes(value as string);
    switch (req.operator) {
      case "In": if (!inValues) return false; break;
      case "NotIn": if (inValues) return false; break;
      case "Exists": if (!has) return false; break;
      case "DoesNotExist": if (has) return false; break;
      default: return false; // an operator we do not know never matches: fail closed
    }
  }
  return true;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d{1,3}$/.test(part) || n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const baseInt = ipv4ToInt(base ?? "");
  const ipInt = ipv4ToInt(ip);
  const bits = Number(bitsText);
  if (baseInt === undefined || ipInt === undefined || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(baseInt / size) === Math.floor(ipInt / size);
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    // Pod addresses are CNI-specific; ipBlock is for traffic leaving or entering the cluster.
    if (other.kind !== "external") return false;
    return cidrContains(peer.ipBlock.cidr, other.ip) && !(peer.ipBlock.except ?? []).some((c) => cidrContains(c, other.ip));
  }
  if (other.kind !== "pod") return false;
  if (peer.namespaceSelector !== undefined) {
    if (!selectorMatches(peer.namespaceSelector, other.namespaceLabels)) return false;
  } else if (other.namespace !== policyNamespace) {
    return false;
  }
  return selectorMatches(peer.podSelector, other.labels);
}

function portMatches(ports: PolicyPort[] | undefined, conn: Connection, destination: Endpoint): boolean {
  if (ports === undefined || ports.length === 0) return true;
  const protocol = conn.protocol ?? "TCP";
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    const number = typeof p.port === "number"
      ? p.port
      : destination.kind === "pod" && destination.namedPorts !== undefined && Object.hasOwn(destination.namedPorts, p.port) ? destination.namedPorts[p.port] : undefined;
    if (number === undefined) return false;
    return p.endPort !== undefined ? conn.port >= number && conn.port <= p.endPort : conn.port === number;
  });
}

function policyTypes(policy: NetworkPolicyLike): string[] {
  if (policy.spec.policyTypes !== undefined && policy.spec.policyTypes.length > 0) return policy.spec.policyTypes;
  return ["Ingress", ...(policy.spec.egress !== undefined ? ["Egress"] : [])];
}

function selecting(policies: readonly NetworkPolicyLike[], pod: Endpoint, direction: "Ingress" | "Egress"): NetworkPolicyLike[] {
  if (pod.kind !== "pod") return [];
  return policies.filter((p) =>
    (p.metadata.namespace ?? "") === pod.namespace && policyTypes(p).includes(direction) && selectorMatches(p.spec.podSelector, pod.labels));
}

export interface Verdict {
  allowed: boolean;
  /** Why, for the report: which side blocked, or which policies allowed. */
  reason: string;
}

function sideAllows(policies: readonly NetworkPolicyLike[], self: Endpoint, other: Endpoint, conn: Connection, direction: "Ingress" | "Egress", destination: Endpoint): Verdict {
  const applicable = selecting(policies, self, direction);
  if (applicable.length === 0) return { allowed: true, reason: `${self.name}: no ${direction.toLowerCase()} isolation` };
  for (const policy of applicable) {
    const rules = direction === "Ingress" ? policy.spec.ingress ?? [] : policy.spec.egress ?? [];
    for (const rule of rules) {
      const peers = direction === "Ingress" ? rule.from : rule.to;
      const peerOk = peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, policy.metadata.namespace ?? "", other));
      if (peerOk && portMatches(rule.ports, conn, destination)) {
        return { allowed: true, reason: `${direction.toLowerCase()} allowed by ${policy.metadata.name ?? "?"}` };
      }
    }
  }
  return { allowed: false, reason: `${direction.toLowerCase()} of ${self.name} denied (${applicable.map((p) => p.metadata.name).join(", ")})` };
}

export function connectionAllowed(policies: readonly NetworkPolicyLike[], source: Endpoint, destination: Endpoint, conn: Connection): Verdict {
  const egress = sideAllows(policies, source, destination, conn, "Egress", destination);
  if (!egress.allowed) return egress;
  const ingress = sideAllows(policies, destination, source, conn, "Ingress", destination);
  if (!ingress.allowed) return ingress;
  return { allowed: true, reason: `${egress.reason}; ${ingress.reason}` };
}
