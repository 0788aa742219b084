/**
 * OdooTenant: one customer's complete, isolated Odoo. The class only wires resources; every
 * object's shape comes from the pure builders in specs/, which are tested without Pulumi.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { tenantLabels, type Component } from "./labels";
import { tenantNames } from "./naming";
import { backupClaim, backupCronJob } from "./specs/backup";
import { ingress } from "./specs/ingress";
import { namespaceMetadata } from "./specs/namespace";
import { networkPolicies } from "./specs/network-policies";
import { initScriptSource, odooDataClaim, odooDeployment, odooService } from "./specs/odoo";
import { renderOdooConf } from "./specs/odoo-conf";
import { postgresService, postgresStatefulSet } from "./specs/postgres";
import { roleSetupSources } from "./specs/postgres-roles";
import { limitRange, resourceQuota } from "./specs/quota";
import type { OdooTenantArgs } from "./tenant-args";

export const ODOO_TENANT_TYPE = "odoo-saas:index:OdooTenant";

/** Odoo needs a first start to initialise the database; a real cluster may also pull images. */
const ODOO_TIMEOUTS: pulumi.CustomTimeouts = { create: "20m", update: "20m" };

/**
 * A plan change never resizes or recreates storage: claim templates are immutable (a change
 * would replace the database StatefulSet) and many storage classes cannot expand volumes.
 * Volumes keep their size; growing one is an explicit operation (README, "Plans and volumes").
 */
const KEEP_VOLUME_SIZE = ["spec.resources.requests.storage"];
const KEEP_CLAIM_TEMPLATES = ["spec.volumeClaimTemplates"];

export class OdooTenant extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly hosts: pulumi.Output<string[]>;
  readonly adminLogin: pulumi.Output<string>;
  /** Secret: the owner reads it back with `pulumi stack output --show-secrets`. */
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: OdooTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ODOO_TENANT_TYPE, name, {}, opts);
    const names = tenantNames(args.id);
    const parent = { parent: this };
    // Data protection: the namespace, its volumes and credentials survive removal from the
    // config (retainOnDelete); only `npm run tenant:purge` deletes them. See README.
    const keep = { ...parent, retainOnDelete: true };

    const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: namespaceMetadata(args) }, keep);
    const inNs = { ...parent, dependsOn: [namespace] };
    const keepInNs = { ...inNs, retainOnDelete: true };

    const password = (role: string): random.RandomPassword =>
      // Alphanumeric: safe inside odoo.conf and connection strings, 190+ bits of entropy.
      new random.RandomPassword(`${name}-${role}-password`, { length: 32, special: false }, parent);
    const dbPassword = password("db");
    const masterPassword = password("master");
    const adminPassword = password("admin");
    // The superuser's own password: never given to Odoo or any Job (they get the application
    // role's, `db`). On a volume made before the split, the role set-up moves the superuser to it.
    const superuserPassword = password("superuser");

    const secret = (role: string, secretName: string, stringData: Record<string, pulumi.Input<string>>, component: Component = "tenant"): k8s.core.v1.Secret =>
      new k8s.core.v1.Secret(`${name}-${role}-secret`, {
        metadata: { name: secretName, namespace: names.namespace, labels: tenantLabels(args.id, component) },
        type: "Opaque",
        stringData,
      }, keepInNs);
    const dbSecret = secret("db", names.dbSecret, { username: names.dbUser, password: dbPassword.result });
    const superuserSecret = secret("superuser", names.dbSuperuserSecret, { username: names.dbSuperuser, password: superuserPassword.result }, "postgres");
    secret("admin", names.adminSecret, { login: args.adminEmail, password: adminPassword.result });
    const odooConf = pulumi
      .all([dbPassword.result, masterPassword.result])
      .apply(([db, master]) => renderOdooConf(args, { dbPassword: db, masterPassword: master }));
    secret("odoo-conf", names.odooConfigSecret, { "odoo.conf": pulumi.secret(odooConf) });

    for (const [role, saName] of [["odoo", names.odooServiceAccount], ["postgres", names.postgresServiceAccount], ["backup", names.backupServiceAccount]] as const) {
      new k8s.core.v1.ServiceAccount(`${name}-${role}-sa`, {
        metadata: { name: saName, namespace: names.namespace, labels: tenantLabels(args.id, role) },
        // None of the tenant's pods talks to the Kubernetes API.
        automountServiceAccountToken: false,
      }, inNs);
    }

    new k8s.core.v1.ResourceQuota(`${name}-quota`, resourceQuota(args), inNs);
    new k8s.core.v1.LimitRange(`${name}-limits`, limitRange(args), inNs);
    for (const policy of networkPolicies(args)) {
      new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${policy.metadata.name}`, policy, inNs);
    }

    const pgService = new k8s.core.v1.Service(`${name}-postgres-service`, postgresService(args), inNs);
    const roleSetup = new k8s.core.v1.ConfigMap(`${name}-postgres-setup`, {
      metadata: { name: names.postgresSetup, namespace: names.namespace, labels: tenantLabels(args.id, "postgres") },
      data: roleSetupSources(),
    }, inNs);
    const postgres = new k8s.apps.v1.StatefulSet(`${name}-postgres`, postgresStatefulSet(args), {
      ...inNs,
      dependsOn: [namespace, pgService, roleSetup, dbSecret, superuserSecret],
      ignoreChanges: KEEP_CLAIM_TEMPLATES,
    });

    const odooData = new k8s.core.v1.PersistentVolumeClaim(`${name}-odoo-data`, odooDataClaim(args), { ...keepInNs, ignoreChanges: KEEP_VOLUME_SIZE });
    const initScript = new k8s.core.v1.ConfigMap(`${name}-odoo-init`, {
      metadata: { name: names.initScript, namespace: names.namespace, labels: tenantLabels(args.id, "odoo") },
      data: { "init_tenant.py": initScriptSource() },
    }, inNs);
    const odooSvc = new k8s.core.v1.Service(`${name}-odoo-service`, odooService(args), inNs);
    new k8s.apps.v1.Deployment(`${name}-odoo`, odooDeployment(args), {
      ...inNs,
      dependsOn: [namespace, postgres, odooData, initScript],
      customTimeouts: ODOO_TIMEOUTS,
    });
    new k8s.networking.v1.Ingress(`${name}-ingress`, ingress(args), { ...inNs, dependsOn: [namespace, odooSvc] });

    const backupDeps: pulumi.Resource[] = [namespace, odooData];
    if (args.backup.store.type === "pvc") {
      backupDeps.push(new k8s.core.v1.PersistentVolumeClaim(`${name}-backups`, backupClaim(args), { ...keepInNs, ignoreChanges: KEEP_VOLUME_SIZE }));
    }
    new k8s.batch.v1.CronJob(`${name}-backup`, backupCronJob(args), { ...inNs, dependsOn: backupDeps });

    const scheme = args.ingress.clusterIssuer !== undefined ? "https" : "http";
    this.namespace = namespace.metadata.name;
    this.hosts = pulumi.output(args.hosts);
    this.url = pulumi.output(`${scheme}://${args.hosts[0]}`);
    this.adminLogin = pulumi.output(args.adminEmail);
    this.adminPassword = pulumi.secret(adminPassword.result);
    this.registerOutputs({
      namespace: this.namespace,
      url: this.url,
      hosts: this.hosts,
      adminLogin: this.adminLogin,
      adminPassword: this.adminPassword,
    });
  }
}
