/**
 * Every Kubernetes name of a tenant, derived from its id: stable across runs (never random),
 * so `pulumi up` twice changes nothing and operators can guess names.
 */
export interface TenantNames {
  namespace: string;
  database: string;
  /** The application role: Odoo, backups and restores connect as it (owner of the database, not superuser). */
  dbUser: string;
  /** Its credentials: what every client of the database mounts. */
  dbSecret: string;
  /** The bootstrap superuser; its credentials reach the PostgreSQL pod only. */
  dbSuperuser: string;
  dbSuperuserSecret: string;
  /** ConfigMap with the role set-up the PostgreSQL pod runs on every start. */
  postgresSetup: string;
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
    // initdb made `odoo` the bootstrap superuser of every volume (POSTGRES_USER=odoo), and
    // it can be neither emptied (REASSIGN OWNED) nor, from PostgreSQL 16, demoted: the
    // application gets a role of its own.
    // Why, and how existing volumes move over: components/postgres-roles/setup-roles.sql.
    dbUser: "odoo_app",
    dbSecret: `${id}-db`,
    dbSuperuser: "odoo",
    dbSuperuserSecret: `${id}-postgres-superuser`,
    postgresSetup: `${id}-postgres-setup`,
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
