/** Labels on every object: the `app.kubernetes.io/*` set plus the tenant label. */
export const PART_OF = "odoo-saas";
export const TENANT_LABEL = "odoo-saas.io/tenant";
/** Pods allowed to open connections to the tenant's PostgreSQL. */
export const DB_CLIENT_LABEL = "odoo-saas.io/db-client";

export type Component = "odoo" | "postgres" | "backup" | "tenant";

const ROLE: Readonly<Record<Component, string>> = { odoo: "server", postgres: "database", backup: "backup", tenant: "tenant" };

/** Stable selector labels: never include anything that changes on upgrade (e.g. version). */
export function selectorLabels(id: string, component: Component): Record<string, string> {
  return {
    "app.kubernetes.io/name": component,
    "app.kubernetes.io/instance": id,
  };
}

export function tenantLabels(id: string, component: Component, version?: string): Record<string, string> {
  return {
    ...selectorLabels(id, component),
    "app.kubernetes.io/component": ROLE[component],
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
    ...(version !== undefined ? { "app.kubernetes.io/version": version } : {}),
    [TENANT_LABEL]: id,
  };
}
