/**
 * Short-lived download links for archives this server streams (the PVC store). A browser
 * cannot add the session's token to a plain navigation, and reading a multi-gigabyte zip into
 * page memory to save it is no option, so the page asks for a link (with its token) and then
 * simply goes there, as it does with S3's pre-signed URLs.
 *
 * A ticket is 32 random bytes, kept in PostgreSQL (only its SHA-256), so any server process
 * on the database honours it. It is bound to one tenant, one backup name and one caller,
 * expires after TICKET_SECONDS, and is used once: the GET that downloads deletes it in the
 * statement that reads it, so two requests with one ticket cannot both pass. A HEAD only looks.
 * The request log records paths without query strings, so tickets are not logged.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Pool } from "pg";
import type { Caller } from "./auth";

export const TICKET_SECONDS = 300;

function hashOf(ticket: string): Buffer {
  return createHash("sha256").update(ticket, "utf8").digest();
}

export class DownloadTickets {
  constructor(private readonly pool: Pool, private readonly seconds = TICKET_SECONDS) {}

  async issue(caller: Caller, tenant: string, name: string, now = new Date()): Promise<{ ticket: string; expiresAt: string }> {
    const ticket = randomBytes(32).toString("base64url");
    const expires = new Date(now.getTime() + this.seconds * 1000);
    await this.pool.query(
      `insert into odoo_saas.download_tickets (ticket_hash, tenant_id, backup_name, caller_sub, caller_admin, expires_at)
       values ($1, $2, $3, $4, $5, $6)`,
      [hashOf(ticket), tenant, name, caller.sub, caller.isAdmin, expires],
    );
    // Expired tickets of anyone are removed as new ones are made: the table stays small.
    await this.pool.query("delete from odoo_saas.download_tickets where expires_at < $1", [now]);
    return { ticket, expiresAt: expires.toISOString() };
  }

  /**
   * The caller the ticket was issued to, or undefined when it is unknown, used, for another
   * tenant or file, or expired. `use` (a GET) spends it; a HEAD leaves it for the download.
   */
  async redeem(ticket: string, tenant: string, name: string, use: boolean, now = new Date()): Promise<Caller | undefined> {
    if (ticket.length > 100) return undefined;
    const where = "ticket_hash = $1 and tenant_id = $2 and backup_name = $3 and expires_at >= $4";
    const { rows } = await this.pool.query<{ caller_sub: string; caller_admin: boolean }>(
      use
        ? `delete from odoo_saas.download_tickets where ${where} returning caller_sub, caller_admin`
        : `select caller_sub, caller_admin from odoo_saas.download_tickets where ${where}`,
      [hashOf(ticket), tenant, name, now],
    );
    const row = rows[0];
    return row === undefined ? undefined : { sub: row.caller_sub, isAdmin: row.caller_admin };
  }
}
