/**
 * The whole program: one OdooTenant per configured tenant, and a per-tenant summary for the
 * stack outputs. Shared by index.ts (`pulumi up`) and the Automation API (inline program).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../tenants/schema";
import { rawConfigFromPulumi } from "../tenants/config-source";
import { requireStackConfig } from "../tenants/validate";
import { OdooTenant } from "./odoo-tenant";
import { resolveTenantArgs } from "./tenant-args";

export interface TenantSummary {
  url: pulumi.Output<string>;
  hosts: pulumi.Output<string[]>;
  namespace: pulumi.Output<string>;
  plan: string;
  odooVersion: string;
  suspended: boolean;
  ownerId: string | null;
  adminLogin: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
}

export function deployTenants(config: StackConfig, opts?: pulumi.ComponentResourceOptions): Record<string, TenantSummary> {
  // Resolve every tenant before registering anything: a tenant that cannot be resolved
  // must leave no other tenant's (or its own) resources half-registered.
  const resolved = config.tenants.map((tenant) => [tenant, resolveTenantArgs(config, tenant)] as const);
  const summaries: Record<string, TenantSummary> = {};
  for (const [tenant, args] of resolved) {
    const component = new OdooTenant(tenant.id, args, opts);
    summaries[tenant.id] = {
      url: component.url,
      hosts: component.hosts,
      namespace: component.namespace,
      plan: tenant.plan,
      odooVersion: tenant.odooVersion,
      suspended: tenant.suspended,
      ownerId: tenant.ownerId ?? null,
      adminLogin: component.adminLogin,
      adminPassword: component.adminPassword,
    };
  }
  return summaries;
}

/** Reads and validates the stack config; throws (creating nothing) with every problem listed. */
export function loadStackConfig(): StackConfig {
  return requireStackConfig(rawConfigFromPulumi(pulumi.runtime.allConfig()));
}

/**
 * The Kubernetes provider of every tenant object. Secrets and ConfigMaps are updated in place:
 * by default the provider replaces them on any data change, and a replacement of an object
 * with a fixed name and retainOnDelete collides with itself (server-side apply conflict).
 * Odoo still restarts on a config change (the pod template carries the config's checksum).
 * Cluster connection: the provider's defaults (KUBECONFIG, ~/.kube/config, `kubernetes:` config).
 */
export function kubernetesProvider(): k8s.Provider {
  // The SDK copies the program process's $KUBECONFIG into the provider's inputs. The program
  // runs in the engine's environment under `pulumi up` but in the caller's under the
  // Automation API, so the same stack would differ by how it was run (and record a machine's
  // path). The plugin reads $KUBECONFIG itself, so it is hidden from the SDK here: the
  // construction is synchronous, nothing else runs before it is restored.
  const saved = process.env.KUBECONFIG;
  delete process.env.KUBECONFIG;
  try {
    return new k8s.Provider("kubernetes", { enableSecretMutable: true, enableConfigMapMutable: true });
  } finally {
    if (saved !== undefined) process.env.KUBECONFIG = saved;
  }
}

/** The Pulumi program: validate first, so invalid config registers no resource at all. */
export function odooSaasProgram(): { tenants: Record<string, TenantSummary> } {
  const config = loadStackConfig();
  return { tenants: deployTenants(config, { providers: [kubernetesProvider()] }) };
}
