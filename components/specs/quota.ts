import type * as k8s from "@pulumi/kubernetes";
import { tenantLabels } from "../labels";
import { tenantNames } from "../naming";
import { quantityValue } from "../../tenants/quantity";
import type { OdooTenantArgs } from "../tenant-args";
import type { Manifest } from "./common";

export function resourceQuota(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.ResourceQuotaSpec> {
  const names = tenantNames(args.id);
  const { quota } = args.plan;
  return {
    metadata: { name: names.quota, namespace: names.namespace, labels: tenantLabels(args.id, "tenant") },
    spec: {
      hard: {
        "limits.cpu": quota.cpu,
        "limits.memory": quota.memory,
        "requests.cpu": quota.cpu,
        "requests.memory": quota.memory,
        "requests.storage": quota.storage,
        pods: String(quota.pods),
        persistentvolumeclaims: "5",
        // A tenant never exposes anything but through the shared ingress.
        "services.loadbalancers": "0",
        "services.nodeports": "0",
      },
    },
  };
}

function largest(values: readonly string[]): string {
  return values.reduce((max, v) => (quantityValue(v) > quantityValue(max) ? v : max));
}

/** Defaults for any container that names no resources, and a ceiling of the plan's largest. */
export function limitRange(args: OdooTenantArgs): Manifest<k8s.types.input.core.v1.LimitRangeSpec> {
  const names = tenantNames(args.id);
  const containers = [args.plan.odoo, args.plan.postgres, args.backup.resources];
  return {
    metadata: { name: names.limits, namespace: names.namespace, labels: tenantLabels(args.id, "tenant") },
    spec: {
      limits: [
        {
          type: "Container",
          default: { cpu: "500m", memory: "512Mi" },
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          max: {
            cpu: largest(containers.map((c) => c.cpu.limit)),
            memory: largest(containers.map((c) => c.memory.limit)),
          },
        },
      ],
    },
  };
}
