/**
 * The one schema of the stack config (`odoo-saas:*` keys). The Pulumi program, the signup
 * server and the pull-request check all validate through it; TypeScript types are derived
 * from it, never written twice.
 */
import { z } from "zod";
import { DEFAULT_RETENTION, isRetentionCount, RETENTION_FIELDS, RETENTION_MAX, retentionRuleProblem } from "../backup/retention-rule";
import { cronProblem } from "./cron";
import { isQuantity } from "./quantity";
import { tenantIdProblem } from "./tenant-id";

export const SUPPORTED_ODOO_VERSIONS = ["17.0", "18.0"] as const;
export type OdooVersion = (typeof SUPPORTED_ODOO_VERSIONS)[number];
/** The newest supported version: what a tenant gets when it names none. */
export const DEFAULT_ODOO_VERSION: OdooVersion = "18.0";

// The tenant-id rule lives in its own dependency-free module (the backup image ships it).
export { RESERVED_TENANT_ID_PREFIXES, RESERVED_TENANT_IDS, TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, tenantIdProblem } from "./tenant-id";

/** A fully qualified host name: lower-case DNS labels separated by dots, total at most 253. */
const HOST = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

const quantity = z.string().refine(isQuantity, { message: "must be a Kubernetes quantity such as 500m, 1Gi or 10Gi" });
const cron = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `malformed cron schedule: ${problem}` });
});
const hostName = z.string().regex(HOST, { message: "must be a lower-case DNS name such as erp.example.com" });
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
  message: "must be a Kubernetes object name (lower-case letters, digits, '-' and '.')",
}).max(253);
const cidr = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, { message: "must be a CIDR such as 10.0.0.0/8" });

const requestLimit = z.strictObject({ request: quantity, limit: quantity });
const containerResources = z.strictObject({ cpu: requestLimit, memory: requestLimit });

export const planSchema = z.strictObject({
  /** What customers read; default derived from the plan's key ("business-plus" -> "Business plus"). */
  displayName: z.string().min(1).max(40).optional(),
  /** One short sentence for customers; default derived from the plan's sizes. */
  description: z.string().min(1).max(160).optional(),
  /** Odoo container (and its database-initialising init container). */
  odoo: containerResources,
  postgres: containerResources,
  /** Odoo worker processes; 0 runs threaded mode without the websocket port. */
  workers: z.number().int().min(0).max(64),
  databaseStorage: quantity,
  filestoreStorage: quantity,
  backupStorage: quantity,
  /**
   * Largest database zip an owner may upload (the file as sent); default the plan's
   * databaseStorage + filestoreStorage (planUploadLimit). The dump and the filestore inside are
   * also held to databaseStorage and filestoreStorage uncompressed.
   */
  uploadLimit: quantity.optional(),
  /** Hard limits of the tenant's ResourceQuota (on limits.cpu, limits.memory, requests.storage, pods). */
  quota: z.strictObject({
    cpu: quantity,
    memory: quantity,
    storage: quantity,
    pods: z.number().int().min(1).max(1000),
  }),
});

const odooImage = z.strictObject({
  image: z.string().min(1),
  /** uid/gid of the image's `odoo` user: Odoo fails to start under a uid missing from /etc/passwd. */
  uid: z.number().int().min(1),
  gid: z.number().int().min(1),
});

const DEFAULT_PLANS = {
  starter: {
    odoo: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1536Mi" } },
    postgres: { cpu: { request: "100m", limit: "500m" }, memory: { request: "256Mi", limit: "512Mi" } },
    workers: 0,
    databaseStorage: "5Gi",
    filestoreStorage: "5Gi",
    backupStorage: "20Gi",
    quota: { cpu: "3", memory: "4Gi", storage: "40Gi", pods: 10 },
  },
  business: {
    odoo: { cpu: { request: "500m", limit: "2" }, memory: { request: "1Gi", limit: "3Gi" } },
    postgres: { cpu: { request: "250m", limit: "1" }, memory: { request: "512Mi", limit: "1Gi" } },
    workers: 2,
    databaseStorage: "20Gi",
    filestoreStorage: "20Gi",
    backupStorage: "80Gi",
    quota: { cpu: "5", memory: "6Gi", storage: "150Gi", pods: 10 },
  },
};

const backupStore = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("pvc") }),
  z.strictObject({
    type: z.literal("s3"),
    endpoint: z.url(),
    bucket: z.string().min(3).max(63),
    region: z.string().min(1).default("us-east-1"),
    forcePathStyle: z.boolean().default(true),
    /** Secret in each tenant namespace holding AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
    credentialsSecret: k8sName,
    /** Platform-wide key prefix; each tenant's backups go below `<prefix>/<tenant id>/`. */
    prefix: z.string().regex(/^([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/, { message: "must be a plain key prefix such as odoo-saas/prod" }).default(""),
    /** Where the backup job may connect: the store's address range. */
    cidr: cidr.default("0.0.0.0/0"),
    port: z.number().int().min(1).max(65535).default(443),
  }),
]);

const RETENTION_COUNT_MESSAGE = `must be a whole number from 0 to ${RETENTION_MAX}`;
const retentionCount = z.number({ message: RETENTION_COUNT_MESSAGE })
  .int({ message: RETENTION_COUNT_MESSAGE })
  .min(0, { message: RETENTION_COUNT_MESSAGE })
  .max(RETENTION_MAX, { message: RETENTION_COUNT_MESSAGE });

/**
 * The retired `backup.keep` ("keep the newest N") is refused, saying what replaced it, rather
 * than given a second meaning beside the rule.
 */
const retiredKeep = z.undefined({
  message: `keep was replaced by retention: { daily, weekly, monthly, onDemand } (defaults ${DEFAULT_RETENTION.daily}, ${DEFAULT_RETENTION.weekly}, ${DEFAULT_RETENTION.monthly}, ${DEFAULT_RETENTION.onDemand}; see "Config reference" in README.md); remove keep`,
}).optional();

/** Platform defaults of the grandfather-father-son rule (backup/retention.ts states it). */
const platformRetention = z.strictObject({
  daily: retentionCount.default(DEFAULT_RETENTION.daily),
  weekly: retentionCount.default(DEFAULT_RETENTION.weekly),
  monthly: retentionCount.default(DEFAULT_RETENTION.monthly),
  onDemand: retentionCount.default(DEFAULT_RETENTION.onDemand),
}).superRefine((rule, ctx) => {
  // zod runs this even when a field failed: that field's own issue already says what is wrong.
  if (!RETENTION_FIELDS.every((field) => isRetentionCount(rule[field]))) return;
  const problem = retentionRuleProblem(rule);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/**
 * A tenant's overrides, field by field; whether the merged rule is usable depends on the
 * platform's values too, so tenants/validate.ts checks it (crossFieldIssues).
 */
const tenantRetention = z.strictObject({
  daily: retentionCount.optional(),
  weekly: retentionCount.optional(),
  monthly: retentionCount.optional(),
  onDemand: retentionCount.optional(),
});

export const tenantSchema = z.strictObject({
  id: z.string().superRefine((id, ctx) => {
    const problem = tenantIdProblem(id);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  adminEmail: z.email({ message: "must be an e-mail address" }),
  plan: z.string().min(1),
  odooVersion: z.enum(SUPPORTED_ODOO_VERSIONS, {
    message: `must be one of ${SUPPORTED_ODOO_VERSIONS.join(", ")}`,
  }).default(DEFAULT_ODOO_VERSION),
  backup: z.strictObject({
    schedule: cron.optional(),
    retention: tenantRetention.optional(),
    keep: retiredKeep,
  }).optional(),
  suspended: z.boolean().default(false),
  customDomains: z.array(hostName).max(20).default([]),
  /** Supabase user id (`sub`) of the owner; set by self-service signup. */
  ownerId: z.string().min(1).max(200).optional(),
});

export const stackConfigSchema = z.strictObject({
  /** Tenants are served at `<id>.<baseDomain>`. */
  baseDomain: hostName,
  ingress: z.strictObject({
    className: k8sName.default("traefik"),
    /** Namespace the ingress controller runs in: the only source allowed to reach Odoo. */
    controllerNamespace: k8sName.default("traefik"),
    /** cert-manager ClusterIssuer; TLS is off when absent. */
    clusterIssuer: k8sName.optional(),
    /** false where no controller publishes Ingress status (e.g. the simulated local cluster). */
    awaitLoadBalancer: z.boolean().default(true),
  }).prefault({}),
  storageClassName: k8sName.optional(),
  images: z.strictObject({
    odoo: z.strictObject({ "17.0": odooImage, "18.0": odooImage }).prefault({
      // uid/gid as reported for the official images (jammy base for 17.0, noble for 18.0);
      // confirm with `id` in the image you pin.
      "17.0": { image: "odoo:17.0", uid: 101, gid: 101 },
      "18.0": { image: "odoo:18.0", uid: 100, gid: 101 },
    }),
    /**
     * Official postgres image, major pinned. 15 matches the pg_dump of the backup image
     * (Debian bookworm's client) and the server the backup tests run against.
     */
    postgres: z.string().min(1).default("postgres:15"),
    /** The backup job image built from images/backup/Dockerfile. */
    backup: z.string().min(1).default("ghcr.io/odoo-saas/backup:0.1.0"),
  }).prefault({}),
  plans: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, { message: "plan names are short lower-case words" }), planSchema)
    .default(DEFAULT_PLANS),
  backup: z.strictObject({
    schedule: cron.default("0 2 * * *"),
    retention: platformRetention.prefault({}),
    keep: retiredKeep,
    store: backupStore.default({ type: "pvc" }),
    resources: containerResources.default({
      cpu: { request: "100m", limit: "500m" },
      memory: { request: "256Mi", limit: "512Mi" },
    }),
  }).prefault({}),
  network: z.strictObject({
    /** Namespace of cluster DNS, the only DNS egress allowed. */
    dnsNamespace: k8sName.default("kube-system"),
    internetEgress: z.strictObject({
      enabled: z.boolean().default(true),
      /** Mail (SMTP submission, SMTPS, IMAPS) and web. */
      ports: z.array(z.number().int().min(1).max(65535)).min(1).default([80, 443, 465, 587, 993]),
      /** Address ranges Odoo may never reach: private, link-local, CGNAT, loopback (cloud metadata included). */
      excludeCidrs: z.array(cidr).default([
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
      ]),
    }).prefault({}),
  }).prefault({}),
  tenants: z.array(tenantSchema).default([]),
});

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;
export type Plan = z.output<typeof planSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type TenantInput = z.input<typeof tenantSchema>;
export type BackupStore = z.output<typeof backupStore>;
export type ContainerResources = z.output<typeof containerResources>;
export type TenantRetentionInput = z.input<typeof tenantRetention>;
