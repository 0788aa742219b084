import type * as k8s from "@pulumi/kubernetes";
import type { ContainerResources } from "../../tenants/schema";

export type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;

/** A plain object spec as the API server would receive it (no Pulumi Outputs inside). */
export interface Manifest<TSpec> {
  metadata: ObjectMeta & { name: string; labels: Record<string, string> };
  spec: TSpec;
}

export function resources(r: ContainerResources): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.cpu.request, memory: r.memory.request },
    limits: { cpu: r.cpu.limit, memory: r.memory.limit },
  };
}

export function secretEnv(name: string, secret: string, key: string): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}
