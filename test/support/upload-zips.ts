// Zips for the upload tests: one laid out by Odoo's own code (the database manager's zip_dir, run
// by Python's zipfile), and hostile ones written with yazl and patched byte for byte where yazl
// refuses a name.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ZipFile } from "yazl";

export interface ZipMember {
  name: string;
  data?: Buffer | string;
  /** Unix mode; 0o100644 for a plain file, 0o120777 for a symbolic link. */
  mode?: number;
  folder?: boolean;
}

/** yazl zip; `patches` replace same-length byte strings in header and directory afterwards. */
export async function writeZip(file: string, members: ZipMember[], patches: [string, string][] = []): Promise<string> {
  const zip = new ZipFile();
  for (const m of members) {
    if (m.folder) zip.addEmptyDirectory(m.name, { mode: m.mode ?? 0o40755 });
    else zip.addBuffer(typeof m.data === "string" ? Buffer.from(m.data) : (m.data ?? Buffer.alloc(0)), m.name, { mode: m.mode ?? 0o100644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  for (const [from, to] of patches) {
    const a = Buffer.from(from, "latin1");
    const b = Buffer.from(to, "latin1");
    if (a.length !== b.length) throw new Error("patches must keep the length");
    let found = 0;
    for (let at = bytes.indexOf(a); at !== -1; at = bytes.indexOf(a, at + a.length)) {
      b.copy(bytes, at);
      found++;
    }
    if (found < 2) throw new Error(`patch ${from} found ${found} times (expected header and directory)`);
  }
  fs.writeFileSync(file, bytes);
  return file;
}

// odoo/tools/osutil.py zip_dir (17.0, 18.0), verbatim but for the imports; Odoo's dump_db calls it
// with include_dir=False and fnct_sort=lambda file_name: file_name != 'dump.sql'.
const ODOO_ZIP_DIR = `
import os, sys, zipfile

def zip_dir(path, stream, include_dir=True, fnct_sort=None):
    path = os.path.normpath(path)
    len_prefix = len(os.path.dirname(path)) if include_dir else len(path)
    if len_prefix:
        len_prefix += 1

    with zipfile.ZipFile(stream, 'w', compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zipf:
        for dirpath, dirnames, filenames in os.walk(path):
            filenames = sorted(filenames, key=fnct_sort)
            for fname in filenames:
                bname, ext = os.path.splitext(fname)
                ext = ext or bname
                if ext not in ['.pyc', '.pyo', '.swp', '.DS_Store']:
                    path = os.path.normpath(os.path.join(dirpath, fname))
                    if os.path.isfile(path):
                        zipf.write(path, path[len_prefix:])

with open(sys.argv[2], 'wb') as stream:
    zip_dir(sys.argv[1], stream, include_dir=False, fnct_sort=lambda file_name: file_name != 'dump.sql')
`;

/**
 * Odoo's database-manager zip of `dumpDir` (dump.sql, manifest.json, filestore/), written by
 * Odoo's zip_dir under Python's zipfile, as /web/database/backup does.
 */
export function writeOdooZip(dumpDir: string, file: string): string {
  const r = spawnSync("python3", ["-c", ODOO_ZIP_DIR, dumpDir, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 zip_dir failed: ${r.stderr || r.error?.message}`);
  return file;
}

/** Odoo's manifest.json (dump_db_manifest) for a 17.0 or 18.0 database. */
export function odooManifest(major: "17.0" | "18.0", dbName: string): string {
  const n = Number(major.slice(0, 2));
  return JSON.stringify({
    odoo_dump: "1",
    db_name: dbName,
    version: `${major}-20241105`,
    version_info: [n, 0, 0, "final", 0, ""],
    major_version: major,
    pg_version: "15.0",
    modules: { base: `${major}.1.3`, web: `${major}.1.0` },
  }, null, 4);
}

/** Copies a folder tree (the filestore) into an Odoo dump folder. */
export function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, entry.name);
    const b = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(a, b);
    else fs.copyFileSync(a, b);
  }
}

/** `filestore/b/a/a/…/a`: one member name of `segments` segments (about 2 bytes each). */
export function deepName(segments: number): string {
  return `filestore/b${"/a".repeat(segments - 2)}`;
}

/**
 * The hostile zips of issue 19: Odoo's three members plus `extra` files (tiny bodies), so that
 * only the names can be what refuses them. Two members of 32,000 segments make a 256 KB file
 * that, before names were capped, cost quadratic time and memory and crashed Node.
 */
export async function zipWithNames(file: string, extra: string[]): Promise<string> {
  return writeZip(file, [
    { name: "dump.sql", data: "SET client_encoding = 'UTF8';\n" },
    { name: "manifest.json", data: odooManifest("17.0", "shop") },
    ...extra.map((name) => ({ name, data: "x" })),
  ]);
}
