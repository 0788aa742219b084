import { assertTenantId } from "../tenants/tenant-id";

export const BACKUP_KINDS = ["scheduled", "on-demand"] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export function isBackupKind(value: string): value is BackupKind {
  return (BACKUP_KINDS as readonly string[]).includes(value);
}

/** `20240501T020000Z`: fixed width, so names of one tenant sort by time as plain strings. */
export function formatCompactUtc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

export function parseCompactUtc(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  // Reject impossible dates such as month 13 instead of letting Date roll them over.
  return formatCompactUtc(date) === stamp ? date : undefined;
}

/** `<tenant>-<yyyymmddThhmmssZ>-<kind>.zip` */
export function formatBackupName(tenant: string, created: Date, kind: BackupKind): string {
  assertTenantId(tenant);
  return `${tenant}-${formatCompactUtc(created)}-${kind}.zip`;
}

export interface ParsedBackupName {
  tenant: string;
  created: Date;
  kind: BackupKind;
}

/** Parses a name made by formatBackupName for this tenant; anything else is undefined. */
export function parseBackupName(tenant: string, name: string): ParsedBackupName | undefined {
  const prefix = `${tenant}-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d{8}T\d{6}Z)-(scheduled|on-demand)\.zip$/.exec(name.slice(prefix.length));
  if (!m) return undefined;
  const created = parseCompactUtc(m[1]!);
  if (!created || !isBackupKind(m[2]!)) return undefined;
  return { tenant, created, kind: m[2] };
}

/**
 * Object names given to a store: one path segment, printable, not hidden, no `..`.
 * The store refuses anything else, so a name can never reach outside the tenant's prefix.
 */
export function assertSafeObjectName(name: string): string {
  if (
    name.length === 0 ||
    name.length > 200 ||
    name.startsWith(".") ||
    name.includes("/") ||
    name.includes("\\") ||
    name.includes("..") ||
    /[\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new Error(`refusing backup name ${JSON.stringify(name)}: it must be a single file name without '/', '\\', '..' or a leading '.'`);
  }
  return name;
}
