/**
 * Short-lived download links for archives this server streams (the PVC store). A browser
 * cannot add the session's token to a plain navigation, and reading a multi-gigabyte zip into
 * page memory to save it is no option, so the page asks for a link (with its token) and then
 * simply goes there, as it does with S3's pre-signed URLs.
 *
 * A ticket is bound to one tenant, one backup name and one caller, expires after 5 minutes,
 * and is an HMAC with a key that lives only in this process (a restart voids all tickets). The
 * request log records paths without query strings, so tickets are not logged.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Caller } from "./auth";

export const TICKET_SECONDS = 300;

interface TicketPayload {
  /** Caller's sub. */
  s: string;
  /** Caller was an administrator. */
  a: boolean;
  /** Expiry, Unix seconds. */
  e: number;
}

export class DownloadTickets {
  private readonly key = randomBytes(32);

  private mac(tenant: string, name: string, payload: string): Buffer {
    return createHmac("sha256", this.key).update(`${tenant}\n${name}\n${payload}`).digest();
  }

  issue(caller: Caller, tenant: string, name: string, now = new Date()): { ticket: string; expiresAt: string } {
    const expires = Math.floor(now.getTime() / 1000) + TICKET_SECONDS;
    const payload = Buffer.from(JSON.stringify({ s: caller.sub, a: caller.isAdmin, e: expires } satisfies TicketPayload)).toString("base64url");
    return { ticket: `${payload}.${this.mac(tenant, name, payload).toString("base64url")}`, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** The caller the ticket was issued to, or undefined when it is forged, for another file, or expired. */
  verify(ticket: string, tenant: string, name: string, now = new Date()): Caller | undefined {
    const [payload, mac, extra] = ticket.split(".");
    if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
    const expected = this.mac(tenant, name, payload);
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const p = parsed as Partial<TicketPayload>;
    if (typeof p.s !== "string" || typeof p.a !== "boolean" || typeof p.e !== "number") return undefined;
    if (now.getTime() / 1000 > p.e) return undefined;
    return { sub: p.s, isAdmin: p.a };
  }
}
