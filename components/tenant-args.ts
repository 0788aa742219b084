/**
 * OdooTenantArgs: everything one tenant needs, resolved from the validated stack config.
 * Resolution (defaults, plan lookup, image per version) is a pure function, tested alone.
 */
import type { BackupStore, ContainerResources, OdooVersion, Plan, StackConfig, TenantConfig } from "../tenants/schema";
import type { RetentionRule } from "../backup/retention-rule";
import { planNamed, tenantHost, tenantRetention } from "../tenants/validate";

export interface OdooImage {
  image: string;
  /** uid/gid of the image's `odoo` user. */
  uid: number;
  gid: number;
}

export interface OdooTenantArgs {
  /** DNS-label tenant id; every name derives from it. */
  id: string;
  /** Login of the Odoo administrator, set on first start. */
  adminEmail: string;
  /** Supabase user id of the owner (self-service tenants only). */
  ownerId?: string;
  planName: string;
  plan: Plan;
  odooVersion: OdooVersion;
  odooImage: OdooImage;
  postgresImage: string;
  backupImage: string;
  /** `<id>.<baseDomain>` first, then custom domains. */
  hosts: string[];
  /** StorageClass for every volume; the cluster default when absent. */
  storageClassName?: string;
  /** Scale Odoo to zero, keep every byte. @default false */
  suspended: boolean;
  /** `retention`: the grandfather-father-son rule (backup/retention.ts), tenant's fields over the platform's. */
  backup: { schedule: string; retention: RetentionRule; store: BackupStore; resources: ContainerResources };
  ingress: StackConfig["ingress"];
  network: StackConfig["network"];
}

export function resolveTenantArgs(config: StackConfig, tenant: TenantConfig): OdooTenantArgs {
  const plan = planNamed(config, tenant.plan);
  if (plan === undefined) throw new Error(`tenant "${tenant.id}": plan: unknown plan "${tenant.plan}"`);
  if (!Object.hasOwn(config.images.odoo, tenant.odooVersion)) throw new Error(`tenant "${tenant.id}": odooVersion: no image for "${tenant.odooVersion}"`);
  return {
    id: tenant.id,
    adminEmail: tenant.adminEmail,
    ...(tenant.ownerId !== undefined ? { ownerId: tenant.ownerId } : {}),
    planName: tenant.plan,
    plan,
    odooVersion: tenant.odooVersion,
    odooImage: config.images.odoo[tenant.odooVersion],
    postgresImage: config.images.postgres,
    backupImage: config.images.backup,
    hosts: [tenantHost(config, tenant.id), ...tenant.customDomains],
    ...(config.storageClassName !== undefined ? { storageClassName: config.storageClassName } : {}),
    suspended: tenant.suspended,
    backup: {
      schedule: tenant.backup?.schedule ?? config.backup.schedule,
      retention: tenantRetention(config, tenant),
      store: config.backup.store,
      resources: config.backup.resources,
    },
    ingress: config.ingress,
    network: config.network,
  };
}
