// Checks an uploaded Odoo database-manager zip (dump.sql + manifest.json + filestore/, as Odoo.sh,
// Odoo Online and /web/database/backup write it) before anything changes: nothing is extracted to
// disk, every member is read once as a stream, and the first problem refuses the upload with a
// stable code and a message for the customer. See backup/README.md ("Uploaded databases").
import * as fs from "node:fs";
import { Readable } from "node:stream";
import * as yauzl from "yauzl";
import { majorVersionOf } from "../archive/manifest";
import { UploadRefusedError, shownName } from "./refusal";
import { SqlDumpChecker } from "./sql-dump-check";
import { Member, NameRegistry, classify, decodeName } from "./zip-entries";

export { UploadRefusedError } from "./refusal";
export type { RefusalCode } from "./refusal";

export interface UploadLimits {
  /** Uncompressed size of dump.sql. */
  maxDumpBytes: number;
  /** Uncompressed size of all files below filestore/ together. */
  maxFilestoreBytes: number;
  /** Members in the zip, folders included. */
  maxEntries: number;
  /** Uncompressed / compressed, for each member and for the whole archive (see RATIO_FLOOR_BYTES). */
  maxCompressionRatio: number;
  /** The instance's Odoo series; the backup's must be the same. */
  odooMajor: "17.0" | "18.0";
}

export interface UploadCheck {
  /** manifest.json `version`, e.g. "17.0-20240501" or "17.0+e". */
  odooVersion: string;
  odooMajor: string;
  /** manifest.json `db_name` and `pg_version`, when present (informational). */
  dbName: string | null;
  pgVersion: string | null;
  /** Installed modules listed in manifest.json. */
  moduleCount: number;
  dumpBytes: number;
  filestoreFiles: number;
  filestoreBytes: number;
}

/**
 * Compression ratios are judged only past this many uncompressed bytes (for one member, and for
 * the archive): small text compresses far better than any bomb threshold, and is harmless.
 */
export const RATIO_FLOOR_BYTES = 1024 * 1024;
const MANIFEST_MAX_BYTES = 1024 * 1024;

function checkLimits(limits: UploadLimits): void {
  for (const key of ["maxDumpBytes", "maxFilestoreBytes", "maxEntries", "maxCompressionRatio"] as const) {
    const v = limits[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new TypeError(`limits.${key} must be a positive number`);
  }
  if (limits.odooMajor !== "17.0" && limits.odooMajor !== "18.0") throw new TypeError("limits.odooMajor must be 17.0 or 18.0");
}

const damaged = (what: string) => new UploadRefusedError("not_a_zip", `${what} is damaged; upload the backup file again`);

export async function checkUploadedArchive(zipPath: string, limits: UploadLimits): Promise<UploadCheck> {
  checkLimits(limits);
  const fileSize = (await fs.promises.stat(zipPath)).size;
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings: false — we decode and judge names ourselves (zip-entries.ts)
    zip = await yauzl.openPromise(zipPath, { autoClose: false, lazyEntries: true, validateEntrySizes: true, decodeStrings: false });
  } catch {
    throw new UploadRefusedError("not_a_zip", "the file is not a readable zip archive (damaged, incomplete, or another format)");
  }
  try {
    return await checkOpenArchive(zip, fileSize, limits);
  } finally {
    zip.close();
  }
}

async function checkOpenArchive(zip: yauzl.ZipFile, fileSize: number, limits: UploadLimits): Promise<UploadCheck> {
  const tooMany = () => new UploadRefusedError("too_many_entries", `the archive has more than ${limits.maxEntries} members`);
  if (zip.entryCount > limits.maxEntries) throw tooMany();

  const bomb = (what: string) =>
    new UploadRefusedError("zip_bomb", `${what} expands more than ${limits.maxCompressionRatio} times its compressed size; this does not look like a database backup`);

  // 1. The directory: names, types, layout, declared sizes. Nothing is decompressed yet.
  const members: Member[] = [];
  const names = new NameRegistry();
  let declaredTotal = 0;
  let declaredFilestore = 0;
  let compressedTotal = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (members.length + 1 > limits.maxEntries) throw tooMany();
      const name = decodeName(entry);
      const kind = classify(entry, name);
      names.add(name);
      members.push({ name, kind, entry });
      declaredTotal += entry.uncompressedSize;
      compressedTotal += entry.compressedSize;
      if (kind === "filestore-file") declaredFilestore += entry.uncompressedSize;
      if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > limits.maxCompressionRatio * Math.max(entry.compressedSize, 1)) {
        throw bomb(`member ${shownName(name)}`);
      }
    }
  } catch (err) {
    if (err instanceof UploadRefusedError) throw err;
    throw damaged("the zip directory");
  }
  const dump = members.find((m) => m.kind === "dump");
  const manifest = members.find((m) => m.kind === "manifest");
  if (!dump) throw new UploadRefusedError("missing_dump", "the archive has no dump.sql at its top level; upload a backup made by Odoo's database manager (zip format, with filestore)");
  if (!manifest) throw new UploadRefusedError("missing_manifest", "the archive has no manifest.json at its top level; upload a backup made by Odoo's database manager");
  if (dump.entry.uncompressedSize > limits.maxDumpBytes) throw dumpTooLarge(limits);
  if (declaredFilestore > limits.maxFilestoreBytes) throw filestoreTooLarge(limits);
  // Members may share compressed bytes (overlapping entries): judge the whole against the file.
  if (declaredTotal > RATIO_FLOOR_BYTES && declaredTotal > limits.maxCompressionRatio * Math.max(Math.min(fileSize, compressedTotal), 1)) {
    throw bomb("the archive");
  }

  // 2. Reading: every byte is counted as it is decompressed, whatever the headers said.
  const totalCap = Math.max(RATIO_FLOOR_BYTES, limits.maxCompressionRatio * Math.max(fileSize, 1));
  let readTotal = 0;
  const read = async (member: Member, onChunk: (chunk: Buffer) => void): Promise<number> => {
    const cap = Math.max(RATIO_FLOOR_BYTES, limits.maxCompressionRatio * Math.max(member.entry.compressedSize, 1));
    let n = 0;
    let stream: Readable;
    try {
      stream = await zip.openReadStreamPromise(member.entry);
    } catch {
      throw damaged(`member ${shownName(member.name)}`);
    }
    try {
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        n += b.length;
        readTotal += b.length;
        if (n > cap) throw bomb(`member ${shownName(member.name)}`);
        if (readTotal > totalCap) throw bomb("the archive");
        onChunk(b);
      }
    } catch (err) {
      stream.destroy();
      if (err instanceof UploadRefusedError) throw err;
      throw damaged(`member ${shownName(member.name)}`);
    }
    return n;
  };

  // manifest.json first: the version check is cheap and the most likely refusal.
  const manifestChunks: Buffer[] = [];
  let manifestBytes = 0;
  await read(manifest, (b) => {
    manifestBytes += b.length;
    if (manifestBytes > MANIFEST_MAX_BYTES) throw new UploadRefusedError("bad_manifest", "manifest.json is implausibly large");
    manifestChunks.push(b);
  });
  const info = parseOdooManifest(Buffer.concat(manifestChunks));
  if (info.major !== limits.odooMajor) {
    throw new UploadRefusedError(
      "version_mismatch",
      `this backup is from Odoo ${info.major} (${info.version}), but this instance runs Odoo ${limits.odooMajor}; upgrade or downgrade the database to ${limits.odooMajor} first`,
    );
  }

  const sql = new SqlDumpChecker();
  const dumpBytes = await read(dump, (b) => {
    sql.push(b);
  });
  if (dumpBytes > limits.maxDumpBytes) throw dumpTooLarge(limits);
  sql.end();

  let filestoreBytes = 0;
  let filestoreFiles = 0;
  for (const member of members) {
    if (member.kind !== "filestore-file") continue;
    await read(member, (b) => {
      filestoreBytes += b.length;
      if (filestoreBytes > limits.maxFilestoreBytes) throw filestoreTooLarge(limits);
    });
    filestoreFiles++;
  }

  return {
    odooVersion: info.version,
    odooMajor: info.major,
    dbName: info.dbName,
    pgVersion: info.pgVersion,
    moduleCount: info.moduleCount,
    dumpBytes,
    filestoreFiles,
    filestoreBytes,
  };
}

function dumpTooLarge(limits: UploadLimits): UploadRefusedError {
  return new UploadRefusedError("dump_too_large", `dump.sql is larger than this plan allows (${limits.maxDumpBytes} bytes uncompressed)`);
}

function filestoreTooLarge(limits: UploadLimits): UploadRefusedError {
  return new UploadRefusedError("filestore_too_large", `the filestore is larger than this plan allows (${limits.maxFilestoreBytes} bytes uncompressed)`);
}

interface OdooManifestInfo {
  version: string;
  major: string;
  dbName: string | null;
  pgVersion: string | null;
  moduleCount: number;
}

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

function ownString(obj: Record<string, unknown>, key: string): string | null {
  if (!Object.hasOwn(obj, key)) return null;
  const v = obj[key];
  return typeof v === "string" ? v : null;
}

/** Odoo's manifest.json (odoo/service/db.py dump_db_manifest): version, major_version, ... */
export function parseOdooManifest(bytes: Buffer): OdooManifestInfo {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new UploadRefusedError("bad_manifest", "manifest.json is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UploadRefusedError("bad_manifest", "manifest.json is not a JSON object");
  }
  const obj = value as Record<string, unknown>;
  const version = ownString(obj, "version");
  const declaredMajor = ownString(obj, "major_version");
  if (version === null && declaredMajor === null) {
    throw new UploadRefusedError("bad_manifest", "manifest.json does not say which Odoo version made the backup (no version or major_version)");
  }
  const major = declaredMajor ?? majorVersionOf(version ?? "");
  let moduleCount = 0;
  if (Object.hasOwn(obj, "modules")) {
    const modules = obj["modules"];
    if (typeof modules !== "object" || modules === null || Array.isArray(modules)) {
      throw new UploadRefusedError("bad_manifest", "manifest.json has a modules field that is not an object");
    }
    moduleCount = Object.keys(modules).length;
  }
  return {
    version: printable((version ?? major).slice(0, 64)),
    major: printable(major.slice(0, 32)),
    dbName: ownString(obj, "db_name"),
    pgVersion: ownString(obj, "pg_version"),
    moduleCount,
  };
}
