/**
 * Every Kubernetes name of a tenant, derived from its id: stable across runs (never random),
 * so `pulumi up` twice changes nothing and operators can guess names.
 */
export interface TenantNames {
  namespace: string;
  database: string;
  dbUser: string;
  dbSecret: string;
  odooConfigSecret: string;
  adminSecret: string;
  postgres: string;
  postgresServiceAccount: string;
  odoo: string;
  odooServiceAccount: string;
  odooData: string;
  initScript: string;
  backup: string;
  backupServiceAccount: string;
  backupVolume: string;
  ingress: string;
  tlsSecret: string;
  quota: string;
  limits: string;
}

export function tenantNames(id: string): TenantNames {
  return {
    namespace: `tenant-${id}`,
    // The tenant's id is also its database name: dbfilter then matches exactly one database.
    database: id,
    dbUser: "odoo",
    dbSecret: `${id}-db`,
    odooConfigSecret: `${id}-odoo-conf`,
    adminSecret: `${id}-admin`,
    postgres: `${id}-postgres`,
    postgresServiceAccount: `${id}-postgres`,
    odoo: `${id}-odoo`,
    odooServiceAccount: `${id}-odoo`,
    odooData: `${id}-odoo-data`,
    initScript: `${id}-odoo-init`,
    backup: `${id}-backup`,
    backupServiceAccount: `${id}-backup`,
    backupVolume: `${id}-backups`,
    ingress: id,
    tlsSecret: `${id}-tls`,
    quota: `${id}-quota`,
    limits: `${id}-limits`,
  };
}
