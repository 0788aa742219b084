/** Stack configs for tests: a valid base and helpers to break one field at a time. */
import type { StackConfigInput, TenantInput } from "../../tenants/schema";

export function tenant(overrides: Partial<TenantInput> & { id: string }): TenantInput {
  return { adminEmail: `admin@${overrides.id}.example`, plan: "starter", ...overrides };
}

export function validConfig(tenants: TenantInput[] = [tenant({ id: "acme" }), tenant({ id: "globex", plan: "business", odooVersion: "17.0", customDomains: ["erp.globex.example"] })]): StackConfigInput {
  return {
    baseDomain: "odoo-saas.test",
    storageClassName: "local-pool",
    ingress: { awaitLoadBalancer: false },
    tenants,
  };
}
