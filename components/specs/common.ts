import type * as k8s from "@pulumi/kubernetes";
import type { ContainerResources } from "../../tenants/schema";
import { tenantLabels, type Component } from "../labels";
import { tenantNames } from "../naming";
import type { OdooTenantArgs } from "../tenant-args";

export type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;

/** A plain object spec as the API server would receive it (no Pulumi Outputs inside). */
export interface Manifest<TSpec> {
  metadata: ObjectMeta & { name: string; labels: Record<string, string> };
  spec: TSpec;
}

/**
 * A tenant's Services are not awaited by the engine: the provider waits for their endpoints and
 * then 10 s more for them to settle (pulumi-kubernetes await/service.go), on the signup's
 * critical path (the database StatefulSet depends on its Service). What that wait would say, pods
 * behind the Service, the StatefulSet's and the Deployment's own awaits and the customer status
 * (the Odoo pod's Ready condition) already observe.
 */
export const SERVICE_SKIP_AWAIT: Readonly<Record<string, string>> = { "pulumi.com/skipAwait": "true" };

export function resources(r: ContainerResources): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.cpu.request, memory: r.memory.request },
    limits: { cpu: r.cpu.limit, memory: r.memory.limit },
  };
}

export function secretEnv(name: string, secret: string, key: string): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** A ReadWriteOnce claim in the tenant namespace, on the configured StorageClass. */
export function volumeClaim(args: OdooTenantArgs, name: string, component: Component, storage: string): Manifest<k8s.types.input.core.v1.PersistentVolumeClaimSpec> {
  return {
    metadata: { name, namespace: tenantNames(args.id).namespace, labels: tenantLabels(args.id, component) },
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(args.storageClassName !== undefined ? { storageClassName: args.storageClassName } : {}),
      resources: { requests: { storage } },
    },
  };
}
