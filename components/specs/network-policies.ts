/**
 * The tenant's network fences. Default deny in BOTH directions, then only the paths a tenant
 * needs. The design documents' set denied egress but re-allowed only ingress, which cut Odoo
 * off from its own database; here every allowed path is opened at both ends.
 *
 *   Odoo            <- ingress controller namespace (8069, 8072)
 *   PostgreSQL      <- pods labelled db-client in the same namespace (5432)
 *   every pod       -> any pod of the same namespace (the receiving side still decides)
 *   every pod       -> cluster DNS (53/UDP+TCP)
 *   Odoo            -> internet on mail/web ports, never private ranges
 *   backup job      -> object store (S3 store only)
 */
import type * as k8s from "@pulumi/kubernetes";
import { DB_CLIENT_LABEL, selectorLabels, tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import type { OdooTenantArgs } from "../tenant-args";
import type { Manifest } from "./common";
import { ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";
import { POSTGRES_PORT } from "./postgres";

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
export type NetworkPolicyManifest = Manifest<PolicySpec>;

const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

function isIPv4(cidr: string): boolean {
  return cidr.includes(".");
}

export function networkPolicies(args: OdooTenantArgs): NetworkPolicyManifest[] {
  const names = tenantNames(args.id);
  const policy = (name: string, spec: PolicySpec): NetworkPolicyManifest => ({
    metadata: { name, namespace: names.namespace, labels: tenantLabels(args.id, "tenant") },
    spec,
  });
  const odooPorts = [ODOO_HTTP_PORT, ...(args.plan.workers > 0 ? [ODOO_WEBSOCKET_PORT] : [])];
  const policies: NetworkPolicyManifest[] = [
    policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy("allow-same-namespace-egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
    policy("allow-dns-egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: args.network.dnsNamespace } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
      ],
    }),
    policy("postgres-from-db-clients", {
      podSelector: { matchLabels: selectorLabels(args.id, "postgres") },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { [DB_CLIENT_LABEL]: "true" } } }], ports: [{ protocol: "TCP", port: POSTGRES_PORT }] }],
    }),
    policy("odoo-from-ingress-controller", {
      podSelector: { matchLabels: selectorLabels(args.id, "odoo") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: args.ingress.controllerNamespace } } }],
          ports: odooPorts.map((port) => ({ protocol: "TCP", port })),
        },
      ],
    }),
  ];
  const internet = args.network.internetEgress;
  if (internet.enabled) {
    policies.push(
      policy("odoo-internet-egress", {
        podSelector: { matchLabels: selectorLabels(args.id, "odoo") },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: internet.excludeCidrs.filter(isIPv4) } }],
            ports: internet.ports.map((port) => ({ protocol: "TCP", port })),
          },
        ],
      }),
    );
  }
  const store = args.backup.store;
  if (store.type === "s3") {
    policies.push(
      policy("backup-to-object-store", {
        podSelector: { matchLabels: selectorLabels(args.id, "backup") },
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: store.cidr } }], ports: [{ protocol: "TCP", port: store.port }] }],
      }),
    );
  }
  return policies;
}
