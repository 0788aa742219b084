// Whether an instance's database is "new or empty", observed in the database itself (a fixed
// script; nothing from the upload reaches it). An upload only ever replaces such a database:
//
// - no database of that name, or one without any table, view or sequence outside the system
//   schemas: empty;
// - an Odoo database as the platform's first start left it (components/odoo-init: base
//   installed, then the administrator set and the marker odoo_saas.admin_initialised written in
//   one transaction): empty while nobody has signed in (res_users_log has no row), no API key
//   exists (res_users_apikeys), and no user or contact was written more than a minute after the
//   marker. Every sign-in writes res_users_log, and every record Odoo writes gets write_date;
// - anything else, including an Odoo database without the marker: not empty. A reading that
//   fails is not a "yes": the caller refuses.
import { PgConnection } from "../config";
import { databaseExists } from "../pg/database-admin";
import { runPsqlScript } from "../pg/psql";

export type Emptiness = { empty: true; why: string } | { empty: false; why: string };

export const INIT_MARKER = "odoo_saas.admin_initialised";

const SCRIPT = `
SELECT count(*) = 0 AS no_relations FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \\gset
\\if :no_relations
\\echo 'empty|the database has no tables'
\\quit
\\endif
SELECT to_regclass('public.ir_config_parameter') IS NOT NULL AND to_regclass('public.res_users') IS NOT NULL
   AND to_regclass('public.res_users_log') IS NOT NULL AND to_regclass('public.res_partner') IS NOT NULL AS is_odoo,
       to_regclass('public.res_users_apikeys') IS NOT NULL AS has_apikeys \\gset
\\if :is_odoo
\\else
\\echo 'not_empty|the database holds tables, and it is not an Odoo database'
\\quit
\\endif
SELECT count(*) = 0 AS no_marker, max(write_date) AS init_at FROM ir_config_parameter WHERE key = :'marker' AND value = '1' \\gset
\\if :no_marker
\\echo 'not_empty|the database was not set up by this platform'
\\quit
\\endif
\\if :has_apikeys
SELECT EXISTS (SELECT 1 FROM res_users_apikeys) AS has_keys \\gset
\\else
SELECT false AS has_keys \\gset
\\endif
SELECT EXISTS (SELECT 1 FROM res_users_log) AS signed_in,
       EXISTS (SELECT 1 FROM res_users WHERE write_date > :'init_at'::timestamp + interval '1 minute')
    OR EXISTS (SELECT 1 FROM res_partner WHERE write_date > :'init_at'::timestamp + interval '1 minute') AS written \\gset
\\if :signed_in
\\echo 'not_empty|someone has signed in to this Odoo'
\\elif :has_keys
\\echo 'not_empty|this Odoo has API keys'
\\elif :written
\\echo 'not_empty|users or contacts were changed after the instance was set up'
\\else
\\echo 'empty|Odoo as first set up: nobody has signed in and nothing was changed'
\\endif
`;

export async function observeEmptiness(pg: PgConnection, database: string): Promise<Emptiness> {
  if (!(await databaseExists(pg, database))) return { empty: true, why: "the instance has no database yet" };
  const out = (await runPsqlScript(pg, database, SCRIPT, { marker: INIT_MARKER })).trim().split("\n").at(-1) ?? "";
  const [verdict, why] = out.split("|", 2);
  if (verdict === "empty" && why) return { empty: true, why };
  if (verdict === "not_empty" && why) return { empty: false, why };
  throw new Error(`the emptiness check printed no verdict (${JSON.stringify(out.slice(0, 200))})`);
}
