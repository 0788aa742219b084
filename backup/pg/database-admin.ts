// Database-level operations, each a fixed script run from the maintenance database. Names are
// psql variables (`:"name"`), never SQL text.
import { PgConnection } from "../config";
import { runPsqlScript } from "./psql";

const NAME_MAX_BYTES = 63; // PostgreSQL truncates longer identifiers, which could collide

/** `<base><suffix>` cut (on a character boundary) to PostgreSQL's 63-byte identifier limit. */
export function fitDatabaseName(base: string, suffix: string): string {
  let head = base;
  while (Buffer.byteLength(head + suffix, "utf8") > NAME_MAX_BYTES && head.length > 0) {
    head = Array.from(head).slice(0, -1).join("");
  }
  return head + suffix;
}

const EXISTS_SQL = `SELECT count(*) FROM pg_catalog.pg_database WHERE datname = :'name';\n`;

export async function databaseExists(conn: PgConnection, name: string): Promise<boolean> {
  const out = await runPsqlScript(conn, conn.maintenanceDatabase, EXISTS_SQL, { name });
  return out.trim() === "1";
}

export interface DatabaseSettings {
  encoding: string;
  lcCollate: string;
  lcCtype?: string;
}

// template0 so the new database is empty whatever was added to template1.
const CREATE_SQL = `
\\if :{?lc_ctype}
CREATE DATABASE :"name" WITH TEMPLATE template0 ENCODING :'encoding' LC_COLLATE :'lc_collate' LC_CTYPE :'lc_ctype';
\\else
CREATE DATABASE :"name" WITH TEMPLATE template0 ENCODING :'encoding' LC_COLLATE :'lc_collate';
\\endif
`;

export async function createDatabase(conn: PgConnection, name: string, settings: DatabaseSettings): Promise<void> {
  await runPsqlScript(conn, conn.maintenanceDatabase, CREATE_SQL, {
    name,
    encoding: settings.encoding,
    lc_collate: settings.lcCollate,
    ...(settings.lcCtype !== undefined ? { lc_ctype: settings.lcCtype } : {}),
  });
}

const DROP_SQL = `DROP DATABASE IF EXISTS :"name";\n`;

export async function dropDatabase(conn: PgConnection, name: string): Promise<void> {
  await runPsqlScript(conn, conn.maintenanceDatabase, DROP_SQL, { name });
}

// Renames are transactional in PostgreSQL, so the live name moves to the restored database in
// one step: there is no moment in which neither database carries it.
const SWAP_SQL = `
BEGIN;
ALTER DATABASE :"live" RENAME TO :"previous";
ALTER DATABASE :"incoming" RENAME TO :"live";
COMMIT;
`;
const RENAME_SQL = `ALTER DATABASE :"incoming" RENAME TO :"live";\n`;

/**
 * Gives `incoming` the live name; the current live database (when there is one) becomes
 * `previous`. Fails (changing nothing) while anyone is connected to either database.
 */
export async function swapDatabases(
  conn: PgConnection,
  names: { live: string; incoming: string; previous: string; liveExists: boolean },
): Promise<void> {
  try {
    if (names.liveExists) {
      await runPsqlScript(conn, conn.maintenanceDatabase, SWAP_SQL, { live: names.live, incoming: names.incoming, previous: names.previous });
    } else {
      await runPsqlScript(conn, conn.maintenanceDatabase, RENAME_SQL, { live: names.live, incoming: names.incoming });
    }
  } catch (err) {
    const message = (err as Error).message;
    const hint = /being accessed by other users/.test(message) ? " (is Odoo still running? it must be scaled to 0 during a restore)" : "";
    throw new Error(`could not switch databases${hint}: ${message}`);
  }
}
