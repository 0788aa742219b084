/**
 * Validates a whole stack config and reports every problem at once, each naming the tenant
 * (index and id) and the field, so one run of the PR check shows everything to fix.
 */
import type { z } from "zod";
import { mergeRetention, retentionRuleProblem, type RetentionRule } from "../backup/retention-rule";
import { quantityValue } from "./quantity";
import { stackConfigSchema, tenantSchema, type Plan, type StackConfig, type TenantConfig } from "./schema";

export interface ConfigIssue {
  /** The tenant the problem belongs to, when it belongs to one. */
  tenant?: { index: number; id?: string };
  /** Dotted path of the field, relative to the tenant when there is one. */
  field: string;
  message: string;
}

export type ParseResult = { ok: true; config: StackConfig } | { ok: false; issues: ConfigIssue[] };

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid odoo-saas config:\n${formatIssues(issues)}`);
    this.name = "ConfigError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rawTenants(raw: unknown): unknown[] {
  return isRecord(raw) && Object.hasOwn(raw, "tenants") && Array.isArray(raw.tenants) ? raw.tenants : [];
}

function rawTenantId(raw: unknown, index: number): string | undefined {
  const tenant = rawTenants(raw)[index];
  return isRecord(tenant) && Object.hasOwn(tenant, "id") && typeof tenant.id === "string" ? tenant.id : undefined;
}

function pathToField(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

function issueAt(raw: unknown, path: readonly PropertyKey[], message: string): ConfigIssue {
  if (path[0] === "tenants" && typeof path[1] === "number") {
    const index = path[1];
    return { tenant: { index, id: rawTenantId(raw, index) }, field: pathToField(path.slice(2)) || "(tenant)", message };
  }
  return { field: pathToField(path) || "(config)", message };
}

function zodIssues(raw: unknown, error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      // One entry per unknown key, so a typo is named exactly.
      for (const key of issue.keys) {
        issues.push(issueAt(raw, [...issue.path, key], "unknown key (check the spelling; see the config reference in README.md)"));
      }
    } else {
      issues.push(issueAt(raw, issue.path, issue.message));
    }
  }
  return issues;
}

/** Checks that span fields: plans exist, ids and hosts are unique, plans fit their quotas. */
function crossFieldIssues(config: StackConfig, tenants: ReadonlyArray<readonly [number, TenantConfig]>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const hostOwners = new Map<string, string>();
  const idIndex = new Map<string, number>();
  for (const [index, tenant] of tenants) {
    const at = { index, id: tenant.id };
    const firstIndex = idIndex.get(tenant.id);
    if (firstIndex !== undefined) {
      issues.push({ tenant: at, field: "id", message: `duplicate id: tenants[${firstIndex}] already uses "${tenant.id}"` });
    } else {
      idIndex.set(tenant.id, index);
    }
    const retentionProblem = retentionRuleProblem(tenantRetention(config, tenant));
    if (retentionProblem !== undefined) {
      issues.push({ tenant: at, field: "backup.retention", message: `${retentionProblem} (this tenant's values over the platform's backup.retention)` });
    }
    if (planNamed(config, tenant.plan) === undefined) {
      issues.push({ tenant: at, field: "plan", message: `unknown plan "${tenant.plan}" (plans: ${Object.keys(config.plans).join(", ")})` });
    }
    const hosts = [tenantHost(config, tenant.id), ...tenant.customDomains];
    hosts.forEach((host, hostIndex) => {
      const owner = hostOwners.get(host);
      const field = hostIndex === 0 ? "id" : `customDomains[${hostIndex - 1}]`;
      if (owner !== undefined && owner !== `${index}`) {
        issues.push({ tenant: at, field, message: `duplicate host "${host}": already served for tenants[${owner}]` });
      } else if (owner === `${index}`) {
        issues.push({ tenant: at, field, message: `host "${host}" is listed twice for this tenant` });
      } else {
        hostOwners.set(host, `${index}`);
      }
    });
  }
  for (const [name, plan] of Object.entries(config.plans)) {
    issues.push(...planIssues(name, plan, config));
  }
  return issues;
}

function planIssues(name: string, plan: Plan, config: StackConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const field = (rest: string): string => `plans.${name}.${rest}`;
  for (const container of ["odoo", "postgres"] as const) {
    for (const resource of ["cpu", "memory"] as const) {
      const { request, limit } = plan[container][resource];
      if (quantityValue(request) > quantityValue(limit)) {
        issues.push({ field: field(`${container}.${resource}`), message: `request ${request} exceeds limit ${limit}` });
      }
    }
  }
  const backup = config.backup.resources;
  const sum = (resource: "cpu" | "memory"): number =>
    quantityValue(plan.odoo[resource].limit) + quantityValue(plan.postgres[resource].limit) + quantityValue(backup[resource].limit);
  if (quantityValue(plan.quota.cpu) < sum("cpu")) {
    issues.push({ field: field("quota.cpu"), message: `${plan.quota.cpu} is below the CPU limits of Odoo, PostgreSQL and the backup job together` });
  }
  if (quantityValue(plan.quota.memory) < sum("memory")) {
    issues.push({ field: field("quota.memory"), message: `${plan.quota.memory} is below the memory limits of Odoo, PostgreSQL and the backup job together` });
  }
  if (plan.uploadLimit !== undefined) {
    const volumes = quantityValue(plan.databaseStorage) + quantityValue(plan.filestoreStorage);
    const limit = quantityValue(plan.uploadLimit);
    if (limit < 2 ** 20) issues.push({ field: field("uploadLimit"), message: `${plan.uploadLimit} is below 1Mi: no Odoo database fits` });
    else if (limit > volumes) {
      issues.push({ field: field("uploadLimit"), message: `${plan.uploadLimit} is above the volumes an upload is restored into (${plan.databaseStorage} + ${plan.filestoreStorage})` });
    }
  }
  const storage = [plan.databaseStorage, plan.filestoreStorage, ...(config.backup.store.type === "pvc" ? [plan.backupStorage] : [])];
  if (quantityValue(plan.quota.storage) < storage.reduce((total, q) => total + quantityValue(q), 0)) {
    issues.push({ field: field("quota.storage"), message: `${plan.quota.storage} is below the volumes the plan asks for (${storage.join(" + ")})` });
  }
  return issues;
}

/** Largest database zip an owner may upload on this plan, in bytes (uploadLimit, else both volumes). */
export function planUploadLimit(plan: Pick<Plan, "uploadLimit" | "databaseStorage" | "filestoreStorage">): number {
  if (plan.uploadLimit !== undefined) return Math.floor(quantityValue(plan.uploadLimit));
  return Math.floor(quantityValue(plan.databaseStorage) + quantityValue(plan.filestoreStorage));
}

/**
 * The plan called `name`, by own-property lookup: a name every JavaScript object has
 * (`toString`, `constructor`, `__proto__`) is a missing plan, not Object.prototype's member.
 */
export function planNamed(config: Pick<StackConfig, "plans">, name: string): Plan | undefined {
  return Object.hasOwn(config.plans, name) ? config.plans[name] : undefined;
}

/** The tenant's retention rule: each field it sets, else the platform's. */
export function tenantRetention(config: Pick<StackConfig, "backup">, tenant: Pick<TenantConfig, "backup">): RetentionRule {
  return mergeRetention(config.backup.retention, tenant.backup?.retention);
}

export function tenantHost(config: Pick<StackConfig, "baseDomain">, id: string): string {
  return `${id}.${config.baseDomain}`;
}

export function parseStackConfig(raw: unknown): ParseResult {
  const parsed = stackConfigSchema.safeParse(raw);
  if (parsed.success) {
    const issues = crossFieldIssues(parsed.data, parsed.data.tenants.map((tenant, index) => [index, tenant] as const));
    return issues.length > 0 ? { ok: false, issues } : { ok: true, config: parsed.data };
  }
  // Shape errors somewhere must not hide cross-field errors elsewhere: check the platform
  // keys and the well-formed tenants on their own and report everything together.
  const issues = zodIssues(raw, parsed.error);
  const platform = stackConfigSchema.safeParse({ ...(isRecord(raw) ? raw : {}), tenants: [] });
  if (platform.success) {
    const wellFormed = rawTenants(raw).flatMap((tenant, index) => {
      const result = tenantSchema.safeParse(tenant);
      return result.success ? [[index, result.data] as const] : [];
    });
    issues.push(...crossFieldIssues(platform.data, wellFormed));
  }
  return { ok: false, issues };
}

/** Parses or throws a ConfigError carrying every issue. */
export function requireStackConfig(raw: unknown): StackConfig {
  const result = parseStackConfig(raw);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.tenant
    ? `tenants[${issue.tenant.index}]${issue.tenant.id !== undefined ? ` (id "${issue.tenant.id}")` : ""}: ${issue.field}`
    : issue.field;
  return `${where}: ${issue.message}`;
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `  - ${formatIssue(issue)}`).join("\n");
}

/** Ids and hosts another stack already owns (the signup server's `GET /api/admin/tenant-ids`). */
export interface TakenElsewhere {
  stack: string;
  ids: string[];
  hosts: string[];
}

/** A pull request must not add a tenant whose id or host the self-service stack already uses. */
export function takenIssues(config: StackConfig, taken: TakenElsewhere): ConfigIssue[] {
  const ids = new Set(taken.ids);
  const hosts = new Set(taken.hosts);
  const issues: ConfigIssue[] = [];
  config.tenants.forEach((tenant, index) => {
    const at = { index, id: tenant.id };
    if (ids.has(tenant.id)) issues.push({ tenant: at, field: "id", message: `"${tenant.id}" is already used by the self-service stack ${taken.stack}` });
    tenant.customDomains.forEach((host, i) => {
      if (hosts.has(host)) issues.push({ tenant: at, field: `customDomains[${i}]`, message: `host "${host}" is already served by the self-service stack ${taken.stack}` });
    });
  });
  return issues;
}
