/**
 * odoo.conf, rendered into a Secret (it holds the database and master passwords) and mounted
 * at /etc/odoo. With every db_* key in the file, the image's entrypoint adds no password to
 * the command line, so no secret shows in `ps` or in the Deployment.
 * Values come from the validated config (DNS-label ids, quantities) and generated
 * alphanumeric passwords; the renderer still refuses line breaks so no key can be injected.
 */
import { createHash } from "node:crypto";
import { quantityValue } from "../../tenants/quantity";
import { tenantNames } from "../naming";
import type { OdooTenantArgs } from "../tenant-args";
import { POSTGRES_PORT } from "./postgres";

export const ODOO_HTTP_PORT = 8069;
export const ODOO_WEBSOCKET_PORT = 8072;
export const ODOO_DATA_DIR = "/var/lib/odoo";
export const ODOO_CONF_DIR = "/etc/odoo";

export interface OdooConfSecrets {
  dbPassword: string;
  masterPassword: string;
}

function confValue(key: string, value: string | number | boolean): string {
  const text = typeof value === "boolean" ? (value ? "True" : "False") : String(value);
  if (/[\r\n]/.test(text)) throw new Error(`odoo.conf value for ${key} must be a single line`);
  return `${key} = ${text}`;
}

/** Memory limits per worker process, so the kernel's OOM killer is never Odoo's limiter. */
function memoryLimits(args: OdooTenantArgs): { soft: number; hard: number } {
  const limit = quantityValue(args.plan.odoo.memory.limit);
  const processes = Math.max(args.plan.workers, 1);
  return { soft: Math.floor((limit * 0.6) / processes), hard: Math.floor((limit * 0.8) / processes) };
}

export function renderOdooConf(args: OdooTenantArgs, secrets: OdooConfSecrets): string {
  const names = tenantNames(args.id);
  const memory = memoryLimits(args);
  const entries: Array<[string, string | number | boolean]> = [
    ["db_host", names.postgres],
    ["db_port", POSTGRES_PORT],
    ["db_user", names.dbUser],
    ["db_password", secrets.dbPassword],
    ["db_name", names.database],
    // Anchored: only the tenant's own database is ever served.
    ["dbfilter", `^${names.database}$`],
    ["list_db", false],
    ["admin_passwd", secrets.masterPassword],
    ["proxy_mode", true],
    ["without_demo", "all"],
    ["data_dir", ODOO_DATA_DIR],
    ["http_port", ODOO_HTTP_PORT],
    ["gevent_port", ODOO_WEBSOCKET_PORT],
    ["workers", args.plan.workers],
    ["max_cron_threads", 1],
    ["limit_memory_soft", memory.soft],
    ["limit_memory_hard", memory.hard],
    ["limit_time_cpu", 600],
    ["limit_time_real", 1200],
  ];
  return ["[options]", ...entries.map(([k, v]) => confValue(k, v)), ""].join("\n");
}

/** sha256 of odoo.conf rendered with placeholder secrets: changes exactly when a setting does. */
export function odooConfChecksum(args: OdooTenantArgs): string {
  const text = renderOdooConf(args, { dbPassword: "-", masterPassword: "-" });
  return createHash("sha256").update(text).digest("hex");
}
