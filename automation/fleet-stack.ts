/**
 * The fleet stack file `Pulumi.<fleetStack>.yaml` as the signup server sees it: the source of
 * the platform keys (baseDomain, plans, images, ...) that the self-service stack copies at
 * every update, and of the ids and hosts pull-request tenants already use (refused, 409).
 * The server never writes this file; pull requests own its `odoo-saas:tenants`.
 */
import * as fs from "node:fs";
import { PROJECT_NAME, StackFileError, rawConfigFromStackFile, readStackConfigMap } from "../tenants/config-source";
import type { StackConfig } from "../tenants/schema";
import { parseStackConfig, tenantHost, type ConfigIssue } from "../tenants/validate";

export const TENANTS_KEY = `${PROJECT_NAME}:tenants`;

export interface FleetStackSnapshot {
  file: string;
  /** Every config key of the fleet stack except `odoo-saas:tenants`, as written (namespaced keys). */
  platformConfig: Record<string, unknown>;
  /** The `odoo-saas:` platform keys without the prefix (and without tenants): input of the one schema. */
  platformRaw: Record<string, unknown>;
  /** The platform keys parsed by the one schema, or every problem when they are invalid. */
  platform: { ok: true; config: StackConfig } | { ok: false; issues: ConfigIssue[] };
  /** Ids the fleet stack's (pull-request) tenants use. */
  tenantIds: ReadonlySet<string>;
  /** Hosts they are served at (`<id>.<baseDomain>` and custom domains). */
  hosts: ReadonlySet<string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

let cache: { file: string; mtimeMs: number; size: number; snapshot: FleetStackSnapshot } | undefined;

/** Reads (and caches by modification time) the fleet stack file. Throws StackFileError. */
export function readFleetStack(file: string): FleetStackSnapshot {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new StackFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (cache && cache.file === file && cache.mtimeMs === stat.mtimeMs && cache.size === stat.size) return cache.snapshot;

  const configMap = readStackConfigMap(file);
  // Keys come from the file: null prototype, so "__proto__" stays a key (and is refused as unknown).
  const platformConfig = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(configMap)) {
    if (key === TENANTS_KEY) continue;
    if (isRecord(value) && Object.hasOwn(value, "secure")) {
      // Encrypted with the fleet stack's key; the self-service stack cannot decrypt it.
      throw new StackFileError(`${file}: "${key}" is a secret value; the self-service stack copies plain platform keys only`);
    }
    platformConfig[key] = value;
  }
  const raw = rawConfigFromStackFile(file);
  const { tenants: rawTenants, ...platformRaw } = raw;
  const parsed = parseStackConfig({ ...platformRaw, tenants: [] });
  const platform = parsed.ok ? { ok: true as const, config: parsed.config } : { ok: false as const, issues: parsed.issues };

  // Lenient on purpose: a pull request with an invalid tenant must still reserve its id.
  const tenantIds = new Set<string>();
  const hosts = new Set<string>();
  const baseDomain = typeof platformRaw.baseDomain === "string" ? platformRaw.baseDomain : undefined;
  for (const tenant of Array.isArray(rawTenants) ? rawTenants : []) {
    if (!isRecord(tenant)) continue;
    if (typeof tenant.id === "string") {
      tenantIds.add(tenant.id);
      if (baseDomain !== undefined) hosts.add(tenantHost({ baseDomain }, tenant.id));
    }
    if (Array.isArray(tenant.customDomains)) {
      for (const host of tenant.customDomains) if (typeof host === "string") hosts.add(host);
    }
  }
  const snapshot: FleetStackSnapshot = { file, platformConfig, platformRaw, platform, tenantIds, hosts };
  cache = { file, mtimeMs: stat.mtimeMs, size: stat.size, snapshot };
  return snapshot;
}
