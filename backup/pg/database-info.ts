// Facts about the tenant database recorded in the manifest: what Odoo's own dump records
// (PostgreSQL version, installed modules) and what a faithful restore needs (encoding, locales).
import { PgConnection } from "../config";
import { runPsqlScript } from "./psql";

export interface DatabaseInfo {
  serverVersion: string;
  encoding: string;
  lcCollate: string;
  lcCtype: string;
  /** Installed Odoo modules and their versions (null where Odoo has none); `{}` when the database is not an Odoo one. */
  modules: Record<string, string | null>;
}

const INFO_SQL = `
SELECT json_build_object(
  'server_version', current_setting('server_version'),
  'encoding', pg_catalog.pg_encoding_to_char(d.encoding),
  'lc_collate', d.datcollate,
  'lc_ctype', d.datctype)
FROM pg_catalog.pg_database d WHERE d.datname = current_database();
SELECT pg_catalog.to_regclass('public.ir_module_module') IS NOT NULL AS has_modules \\gset
\\if :has_modules
SELECT coalesce(json_object_agg(name, latest_version), '{}') FROM public.ir_module_module WHERE state = 'installed';
\\else
SELECT '{}';
\\endif
`;

export async function readDatabaseInfo(conn: PgConnection): Promise<DatabaseInfo> {
  const out = await runPsqlScript(conn, conn.database, INFO_SQL);
  const lines = out.split("\n").filter((line) => line.trim() !== "");
  if (lines.length !== 2) throw new Error(`unexpected output while reading database facts: ${out.slice(0, 200)}`);
  const facts = JSON.parse(lines[0]!) as Record<string, string>;
  const modules = JSON.parse(lines[1]!) as Record<string, string | null>;
  return {
    // "15.8 (Debian 15.8-1)" -> "15.8", the form Odoo's manifest uses.
    serverVersion: (facts.server_version ?? "").split(" ")[0]!,
    encoding: facts.encoding ?? "UTF8",
    lcCollate: facts.lc_collate ?? "C",
    lcCtype: facts.lc_ctype ?? "C",
    modules,
  };
}
