/**
 * The one tenant-id rule. Every part of the product (schema, signup API, backup CLI and its
 * Kubernetes orchestration, operator scripts) checks ids with `tenantIdProblem`. This module
 * has no imports on purpose: the backup image ships it without zod or the rest of tenants/.
 *
 * Tenant ids must start with a letter (DNS-1035, a subset of DNS-1123), because Services
 * are named `<id>-odoo`; and they are capped at 40 characters so every derived name stays
 * valid: `tenant-<id>` (63), the CronJob `<id>-backup` (52, Jobs add a suffix), and the
 * StatefulSet `<id>-postgres` whose revision label must fit in 63.
 */
export const TENANT_ID_MAX_LENGTH = 40;
export const TENANT_ID_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Ids that would shadow platform hosts or Kubernetes system namespaces. */
export const RESERVED_TENANT_IDS: readonly string[] = [
  "www", "api", "admin", "app", "auth", "login", "signup", "status", "mail", "smtp", "imap",
  "pop", "ftp", "ns", "ns1", "ns2", "cdn", "static", "assets", "dashboard", "console",
  "default", "system", "traefik", "ingress", "cert-manager", "monitoring", "odoo", "odoo-saas",
  "postgres", "backup", "backups", "localhost",
];
export const RESERVED_TENANT_ID_PREFIXES: readonly string[] = ["kube-", "tenant-", "openshift-"];

/** Why `id` is not a tenant id, or undefined when it is one. */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.length > TENANT_ID_MAX_LENGTH) {
    return `"${id}" is ${id.length} characters; at most ${TENANT_ID_MAX_LENGTH} so that "tenant-<id>" and every derived name stay valid Kubernetes names`;
  }
  if (!TENANT_ID_PATTERN.test(id)) {
    return `"${id}" is not a DNS label: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit`;
  }
  if (RESERVED_TENANT_IDS.includes(id)) return `"${id}" is reserved`;
  const prefix = RESERVED_TENANT_ID_PREFIXES.find((p) => id.startsWith(p));
  if (prefix) return `"${id}" is reserved (ids starting with "${prefix}" belong to the system)`;
  return undefined;
}

/** Returns `value` when it is a tenant id; otherwise throws an error naming `what` (a variable or argument). */
export function assertTenantId(value: string, what = "tenant id"): string {
  const problem = tenantIdProblem(value);
  if (problem !== undefined) throw new Error(`${what} is not a valid tenant id: ${problem}`);
  return value;
}
