/**
 * The design documents' section 8 policy set for one tenant, transcribed as test data so
 * tests can show that our checks catch its defects (egress denied but never re-allowed
 * in-namespace; the ingress controller selected by a `name` label nobody sets).
 */
import type { NetworkPolicyLike } from "../../checks/network-policy-eval";

export function designDocPolicies(namespace: string): NetworkPolicyLike[] {
  const meta = (name: string) => ({ name, namespace });
  return [
    { metadata: meta("default-deny"), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    { metadata: meta("allow-same-namespace"), spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] } },
    {
      metadata: meta("postgres-access"),
      spec: { podSelector: { matchLabels: { app: "postgresql" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "odoo" } } }], ports: [{ protocol: "TCP", port: 5432 }] }] },
    },
    {
      metadata: meta("allow-ingress"),
      spec: { podSelector: { matchLabels: { app: "odoo" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: "traefik" } } }], ports: [{ protocol: "TCP", port: 8069 }] }] },
    },
    {
      metadata: meta("allow-dns"),
      spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }] },
    },
  ];
}
