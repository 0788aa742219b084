// manifest.json: Odoo's database-manager fields (so Odoo recognises the archive as its own dump)
// plus ours, which make the archive self-checking: size and SHA-256 of every member.
import { BackupKind, isBackupKind } from "../backup-name";
import { FileDigest } from "./hashing-stream";

export const ARCHIVE_FORMAT = "odoo-saas-backup/1";

/** odoo.release.version_info: (major, minor, micro, release level, serial, suffix). */
export type OdooVersionInfo = [number | string, number, number, string, number, string];

export interface BackupManifest {
  // Odoo's fields, in its order (odoo/service/db.py dump_db_manifest)
  odoo_dump: "1";
  db_name: string;
  version: string;
  /** Absent from archives written before it was added; nothing reads it on restore. */
  version_info: OdooVersionInfo;
  major_version: string;
  pg_version: string;
  /** Installed modules (ir_module_module, state 'installed') -> latest_version; `{}` without that table. */
  modules: Record<string, string | null>;
  // ours
  format: typeof ARCHIVE_FORMAT;
  tenant: string;
  created: string;
  kind: BackupKind;
  /** Encoding and locales of the source database, recreated on restore. */
  database: { encoding: string; lc_collate: string; lc_ctype: string };
  dump: FileDigest;
  filestore: { file_count: number; total_size: number; files: Record<string, FileDigest> };
}

/** "17.0" from "17.0", "17.0-20240501" or "17.0+e"; "saas~17.2" stays as it is. */
export function majorVersionOf(version: string): string {
  return /^(saas~)?\d+\.\d+/.exec(version)?.[0] ?? version;
}

const SERIES = /^(saas~)?(\d+)\.(\d+)/;

/** Whether `version` starts with an Odoo series such as "17.0" or "saas~17.2". */
export function isOdooVersion(version: string): boolean {
  return SERIES.test(version);
}

/**
 * What odoo/release.py says for a final release of that series: (17, 0, 0, 'final', 0, '') for
 * "17.0", ('saas~17', 2, 0, 'final', 0, '') for "saas~17.2". A suffix after the series (a build
 * date, "+e") is not part of version_info.
 */
export function versionInfoOf(version: string): OdooVersionInfo {
  const m = SERIES.exec(version);
  if (!m) throw new Error(`${JSON.stringify(version)} does not start with an Odoo series such as 17.0`);
  const major = Number(m[2]);
  return [m[1] !== undefined ? `saas~${major}` : major, Number(m[3]), 0, "final", 0, ""];
}

export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

function isDigest(value: unknown): value is FileDigest {
  const v = value as FileDigest;
  return (
    typeof v === "object" && v !== null &&
    Number.isSafeInteger(v.size) && v.size >= 0 &&
    typeof v.sha256 === "string" && /^[0-9a-f]{64}$/.test(v.sha256)
  );
}

/** Checks the fields a restore relies on; anything missing or malformed is refused. */
export function parseManifest(text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  const m = value as Partial<BackupManifest>;
  const problems: string[] = [];
  if (typeof m !== "object" || m === null) throw new ManifestError("manifest.json is not an object");
  if (m.odoo_dump !== "1") problems.push('odoo_dump is not "1"');
  if (m.format !== ARCHIVE_FORMAT) problems.push(`format is not ${ARCHIVE_FORMAT} (not made by this tool, or a newer version)`);
  for (const key of ["db_name", "version", "major_version", "pg_version", "tenant", "created"] as const) {
    if (typeof m[key] !== "string") problems.push(`${key} is missing`);
  }
  if (typeof m.created === "string" && Number.isNaN(Date.parse(m.created))) problems.push("created is not a date");
  if (typeof m.kind !== "string" || !isBackupKind(m.kind)) problems.push("kind is not scheduled or on-demand");
  if (typeof m.modules !== "object" || m.modules === null) problems.push("modules is missing");
  const db = m.database;
  if (typeof db !== "object" || db === null || typeof db.encoding !== "string" || typeof db.lc_collate !== "string" || typeof db.lc_ctype !== "string") {
    problems.push("database settings are missing");
  }
  if (!isDigest(m.dump)) problems.push("dump size/sha256 is missing");
  const fs = m.filestore;
  if (typeof fs !== "object" || fs === null || typeof fs.files !== "object" || fs.files === null) {
    problems.push("filestore file list is missing");
  } else {
    for (const [name, digest] of Object.entries(fs.files)) {
      if (!isDigest(digest)) {
        problems.push(`filestore entry ${JSON.stringify(name)} has no valid size/sha256`);
        break;
      }
    }
  }
  if (problems.length > 0) throw new ManifestError(`manifest.json is not usable: ${problems.join("; ")}`);
  return m as BackupManifest;
}
