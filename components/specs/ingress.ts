import type * as k8s from "@pulumi/kubernetes";
import { tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import type { OdooTenantArgs } from "../tenant-args";
import type { Manifest } from "./common";

export function ingress(args: OdooTenantArgs): Manifest<k8s.types.input.networking.v1.IngressSpec> {
  const names = tenantNames(args.id);
  const annotations: Record<string, string> = {};
  if (args.ingress.clusterIssuer !== undefined) annotations["cert-manager.io/cluster-issuer"] = args.ingress.clusterIssuer;
  // Only where the stack says no controller publishes Ingress status (e.g. the simulated cluster).
  if (!args.ingress.awaitLoadBalancer) annotations["pulumi.com/skipAwait"] = "true";
  const backend = (port: string): k8s.types.input.networking.v1.IngressBackend => ({ service: { name: names.odoo, port: { name: port } } });
  const paths: k8s.types.input.networking.v1.HTTPIngressPath[] = [];
  // Longest prefix wins in every controller; listed first for readers.
  if (args.plan.workers > 0) paths.push({ path: "/websocket", pathType: "Prefix", backend: backend("websocket") });
  paths.push({ path: "/", pathType: "Prefix", backend: backend("http") });
  return {
    metadata: {
      name: names.ingress,
      namespace: names.namespace,
      labels: tenantLabels(args.id, "odoo", args.odooVersion),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      ingressClassName: args.ingress.className,
      rules: args.hosts.map((host) => ({ host, http: { paths } })),
      ...(args.ingress.clusterIssuer !== undefined ? { tls: [{ hosts: args.hosts, secretName: names.tlsSecret }] } : {}),
    },
  };
}
