// The CLI's whole input arrives by environment variables (set by the CronJob's pod template).
// Everything is checked here, up front, with errors that name the variable, before any work starts.
import * as path from "node:path";
import { isOdooVersion } from "./archive/manifest";
import { BackupKind, isBackupKind } from "./backup-name";
import { DEFAULT_RETENTION, RETENTION_ENV, RETENTION_MAX, RetentionRule, retentionRuleProblem } from "./retention-rule";
import { assertTenantId } from "../tenants/tenant-id";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  /** Handed to libpq through PGPASSWORD in the child's environment only; never logged. */
  password?: string;
  /** The tenant's database (PGDATABASE). Any text: it is passed as data, never as SQL or shell. */
  database: string;
  /** Where CREATE/ALTER/DROP DATABASE run from (PG_MAINTENANCE_DB, default `postgres`). */
  maintenanceDatabase: string;
  /** Folder holding pg_dump and psql (PG_BIN_DIR); by default they are looked up in PATH. */
  binDir?: string;
  /** libpq TLS settings passed through unchanged (PGSSLMODE, PGSSLROOTCERT, ...). */
  passThrough: Record<string, string>;
}

export type StoreConfig =
  | { kind: "pvc"; dir: string }
  | {
      kind: "s3";
      endpoint?: string;
      bucket: string;
      region: string;
      prefix: string;
      forcePathStyle: boolean;
      partSizeBytes: number;
    };

export interface CommonConfig {
  tenant: string;
  store: StoreConfig;
  retention: RetentionRule;
  incompleteGraceMs: number;
}

export interface BackupConfig extends CommonConfig {
  kind: BackupKind;
  odooVersion: string;
  pg: PgConnection;
  filestoreDir: string;
  compressionLevel: number;
}

export interface RestoreConfig extends CommonConfig {
  pg: PgConnection;
  filestoreDir: string;
  keepPrevious: boolean;
  /** Where an archive from S3 is downloaded before it is checked (default: beside the filestore). */
  workDir?: string;
}

const PASS_THROUGH_PG_VARS = ["PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS"];

/** Own variables only: a value inherited through a prototype is not configuration. */
function own(env: Env, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

function required(env: Env, name: string): string {
  const value = own(env, name);
  if (value === undefined || value === "") throw new ConfigError(`${name} is required`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = own(env, name);
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false; got ${JSON.stringify(raw)}`);
}

function absolutePath(env: Env, name: string, fallback?: string): string {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(`${name} is required`);
  if (!path.isAbsolute(raw)) throw new ConfigError(`${name} must be an absolute path; got ${JSON.stringify(raw)}`);
  const resolved = path.resolve(raw);
  if (resolved === path.parse(resolved).root) throw new ConfigError(`${name} must not be the root folder`);
  return resolved;
}

function tenantFrom(env: Env): string {
  const tenant = required(env, "TENANT_ID");
  try {
    return assertTenantId(tenant, "TENANT_ID");
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function storeFrom(env: Env): StoreConfig {
  const kind = optional(env, "BACKUP_STORE") ?? "pvc";
  if (kind === "pvc") return { kind, dir: absolutePath(env, "BACKUP_DIR", "/backups") };
  if (kind !== "s3") throw new ConfigError(`BACKUP_STORE must be "pvc" or "s3"; got ${JSON.stringify(kind)}`);

  const endpoint = optional(env, "S3_ENDPOINT");
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new ConfigError(`S3_ENDPOINT must be an http(s) URL; got ${JSON.stringify(endpoint)}`);
  }
  const prefix = (optional(env, "S3_PREFIX") ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((segment) => prefix !== "" && (segment === "" || segment === "." || segment === ".."))) {
    throw new ConfigError(`S3_PREFIX must be a plain key prefix without empty, '.' or '..' segments; got ${JSON.stringify(prefix)}`);
  }
  const hasKey = optional(env, "AWS_ACCESS_KEY_ID") !== undefined;
  const hasSecret = optional(env, "AWS_SECRET_ACCESS_KEY") !== undefined;
  if (hasKey !== hasSecret) {
    throw new ConfigError(`${hasKey ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"} is required when ${hasKey ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"} is set`);
  }
  return {
    kind,
    ...(endpoint !== undefined ? { endpoint } : {}),
    bucket: required(env, "S3_BUCKET"),
    region: optional(env, "S3_REGION") ?? "us-east-1",
    prefix,
    forcePathStyle: boolean(env, "S3_FORCE_PATH_STYLE", false),
    // S3 allows 10,000 parts: 16 MiB parts reach 160 GiB; memory use is about 2 parts.
    partSizeBytes: integer(env, "S3_PART_SIZE_MB", 16, 5, 5120) * 1024 * 1024,
  };
}

function pgFrom(env: Env): PgConnection {
  const database = required(env, "PGDATABASE");
  if (Buffer.byteLength(database, "utf8") > 63) {
    throw new ConfigError(`PGDATABASE must be at most 63 bytes (PostgreSQL's name limit); got ${Buffer.byteLength(database, "utf8")} bytes`);
  }
  const passThrough: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of PASS_THROUGH_PG_VARS) {
    const value = optional(env, name);
    if (value !== undefined) passThrough[name] = value;
  }
  const password = optional(env, "PGPASSWORD");
  const binDir = optional(env, "PG_BIN_DIR");
  return {
    host: required(env, "PGHOST"),
    port: integer(env, "PGPORT", 5432, 1, 65535),
    user: required(env, "PGUSER"),
    ...(password !== undefined ? { password } : {}),
    database,
    maintenanceDatabase: optional(env, "PG_MAINTENANCE_DB") ?? "postgres",
    ...(binDir !== undefined ? { binDir: absolutePath(env, "PG_BIN_DIR") } : {}),
    passThrough,
  };
}

/** BACKUP_RETENTION_*; the retired BACKUP_KEEP is refused rather than silently ignored. */
function retentionFrom(env: Env): RetentionRule {
  if (optional(env, "BACKUP_KEEP") !== undefined) {
    throw new ConfigError(
      `BACKUP_KEEP is no longer read: retention is ${RETENTION_ENV.daily}, ${RETENTION_ENV.weekly}, ${RETENTION_ENV.monthly} and ${RETENTION_ENV.onDemand} (defaults ${DEFAULT_RETENTION.daily}, ${DEFAULT_RETENTION.weekly}, ${DEFAULT_RETENTION.monthly}, ${DEFAULT_RETENTION.onDemand}); unset BACKUP_KEEP`,
    );
  }
  const rule: RetentionRule = {
    daily: integer(env, RETENTION_ENV.daily, DEFAULT_RETENTION.daily, 0, RETENTION_MAX),
    weekly: integer(env, RETENTION_ENV.weekly, DEFAULT_RETENTION.weekly, 0, RETENTION_MAX),
    monthly: integer(env, RETENTION_ENV.monthly, DEFAULT_RETENTION.monthly, 0, RETENTION_MAX),
    onDemand: integer(env, RETENTION_ENV.onDemand, DEFAULT_RETENTION.onDemand, 0, RETENTION_MAX),
  };
  const problem = retentionRuleProblem(rule, RETENTION_ENV);
  if (problem !== undefined) throw new ConfigError(problem);
  return rule;
}

export function readCommonConfig(env: Env): CommonConfig {
  return {
    tenant: tenantFrom(env),
    store: storeFrom(env),
    retention: retentionFrom(env),
    incompleteGraceMs: integer(env, "BACKUP_INCOMPLETE_GRACE_HOURS", 24, 0, 24 * 365) * 3600_000,
  };
}

/** `kindArg` (from `--kind`) wins over BACKUP_KIND, which an on-demand Job sets. */
export function readBackupConfig(env: Env, kindArg?: string): BackupConfig {
  const common = readCommonConfig(env);
  const kind = kindArg ?? optional(env, "BACKUP_KIND") ?? "scheduled";
  if (!isBackupKind(kind)) {
    throw new ConfigError(`${kindArg !== undefined ? "--kind" : "BACKUP_KIND"} must be "scheduled" or "on-demand"; got ${JSON.stringify(kind)}`);
  }
  const odooVersion = required(env, "ODOO_VERSION");
  if (odooVersion.length > 64) throw new ConfigError("ODOO_VERSION must be at most 64 characters");
  if (!isOdooVersion(odooVersion)) throw new ConfigError(`ODOO_VERSION must start with an Odoo series such as 17.0 or saas~17.2; got ${JSON.stringify(odooVersion)}`);
  return {
    ...common,
    kind,
    odooVersion,
    pg: pgFrom(env),
    filestoreDir: absolutePath(env, "FILESTORE_DIR"),
    // Level 1 deflates SQL text nearly as well as 6 at several times the speed (see the benchmark).
    compressionLevel: integer(env, "BACKUP_COMPRESSION_LEVEL", 1, 0, 9),
  };
}

export function readRestoreConfig(env: Env): RestoreConfig {
  const workDir = optional(env, "RESTORE_WORK_DIR");
  return {
    ...readCommonConfig(env),
    pg: pgFrom(env),
    filestoreDir: absolutePath(env, "FILESTORE_DIR"),
    keepPrevious: boolean(env, "RESTORE_KEEP_PREVIOUS", false),
    ...(workDir !== undefined ? { workDir: absolutePath(env, "RESTORE_WORK_DIR") } : {}),
  };
}

/** Values that must never appear in output: replaced wherever they occur in a message. */
export function secretValues(env: Env): string[] {
  return ["PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"]
    .map((name) => own(env, name))
    .filter((value): value is string => value !== undefined && value.length >= 3);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}
