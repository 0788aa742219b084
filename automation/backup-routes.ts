/**
 * The owner's backup routes: list, "back up now" (rate-limited in BackupService) and download
 * (S3: a pre-signed URL; PVC store: streamed through the server, with a short-lived, single-use
 * ticket kept in PostgreSQL so the browser can download without the token, from any server).
 */
import { pipeline } from "node:stream/promises";
import { ApiError } from "./api-error";
import type { Caller } from "./auth";
import type { BackupService } from "./backup-service";
import { TICKET_SECONDS, type DownloadTickets } from "./download-tickets";
import { API_HEADERS, BACKUP_NAME, ID, readJsonObject, send, RouteTable, type RouteDef } from "./http-io";
import type { Logger } from "./log";
import { rejectUnknownFields } from "./tenant-service";

export function backupRoutes(backups: BackupService, tickets: DownloadTickets, log: Logger, maxBody = 16 * 1024): RouteDef[] {
  const routes = new RouteTable();
  routes.add("GET", `/api/tenants/${ID}/backups`, async ({ res, params, caller }) => {
    send(res, 200, await backups.list(await caller(), params[0] as string));
  });
  routes.add("POST", `/api/tenants/${ID}/backups`, async ({ req, res, params, caller }) => {
    const who = await caller();
    rejectUnknownFields(await readJsonObject(req, maxBody), new Set());
    send(res, 202, await backups.request(who, params[0] as string));
  });
  // `Accept: application/json` (the page, which has the token): where to download, as
  // `{url, expiresAt}`: S3's pre-signed URL, or this route with a short-lived `?ticket=`.
  // Otherwise (a token or a ticket): 302 to the pre-signed URL, or the zip streamed from here.
  // HEAD answers the same headers and opens nothing (no reader Job, the ticket is not spent).
  routes.add("GET", `/api/tenants/${ID}/backups/${BACKUP_NAME}/download`, async ({ req, res, params, url, caller }) => {
    const id = params[0] as string;
    const name = params[1] as string;
    const head = req.method === "HEAD";
    const ticket = url.searchParams.get("ticket");
    let who: Caller;
    if (ticket !== null) {
      const ticketed = await tickets.redeem(ticket, id, name, !head);
      if (ticketed === undefined) throw new ApiError(404, "not_found", `this download link is not valid: a link works once, for ${TICKET_SECONDS / 60} minutes; start the download again`);
      who = ticketed;
    } else who = await caller();
    const wantsLink = ticket === null && (req.headers.accept ?? "").includes("application/json");
    const mode = head ? "head" : wantsLink ? "link" : "content";
    // A download counts once against the rate limit: its link, or a GET with the token; not its ticket's use.
    const found = await backups.download(who, id, name, mode, !head && ticket === null);
    if (found.type === "through-server") {
      const issued = await tickets.issue(who, id, name);
      send(res, 200, { url: `${url.pathname}?ticket=${encodeURIComponent(issued.ticket)}`, expiresAt: issued.expiresAt });
      return;
    }
    if (found.type === "redirect") {
      if (wantsLink) send(res, 200, { url: found.url, expiresAt: found.expiresAt });
      else {
        res.writeHead(302, { ...API_HEADERS, Location: found.url });
        res.end();
      }
      return;
    }
    res.writeHead(200, {
      ...API_HEADERS,
      "Content-Type": "application/zip",
      // The name passed parseBackupName: letters, digits, '-', '.' only.
      "Content-Disposition": `attachment; filename="${name}"`,
      "X-Content-Type-Options": "nosniff",
      ...(found.size !== undefined ? { "Content-Length": String(found.size) } : {}),
    });
    if (found.type === "available" || head) {
      if (found.type === "stream") found.body.destroy();
      res.end();
      return;
    }
    // pipeline waits for the response's drain: with the exec stream's gate (exec-stream.ts), a slow browser slows the pod.
    await pipeline(found.body, res).catch((err: unknown) => {
      // Headers are gone: a broken download can only be cut short, so the browser reports it failed.
      log.log("warn", "backup download interrupted", { tenant: id, error: (err as Error).message });
      res.destroy();
    });
  });
  return routes.declared();
}
