/**
 * The signup server's HTTP layer (node:http): one handler per route, thin over
 * TenantService. Requests are answered 202 once queued (never held open for a stack
 * update); every error is `{ "error": { "code", "message", "field"? } }`; bodies are JSON
 * only, at most 16 KiB, without unknown fields; `/api` needs a Supabase access token,
 * except the public config. Also serves the signup page, its config and supabase-js.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { TENANT_ID_PATTERN } from "../tenants/tenant-id";
import { ApiError } from "./api-error";
import type { Authenticator, Caller } from "./auth";
import type { BackupService } from "./backup-service";
import { DownloadTickets } from "./download-tickets";
import { CustomerProgress } from "./customer-progress";
import type { Logger } from "./log";
import { requireAdmin, type AdminService } from "./admin-service";
import { isTerminal, type OperationEvents, type ProgressEntry } from "./operation-events";
import { rejectUnknownFields, type TenantService } from "./tenant-service";
import { operationView } from "./tenant-views";
import { uploadRoutes } from "./upload-routes";
import type { UploadService } from "./upload-service";

export interface PageConfig {
  supabaseUrl: string;
  /** Public by design (the browser needs it); never a service-role key. */
  supabaseAnonKey: string;
}

export interface HttpServerOptions {
  service: TenantService;
  admin: AdminService;
  backups: BackupService;
  /** Bring your own database (upload-routes.ts); absent: no upload routes. */
  uploads?: UploadService;
  auth: Authenticator;
  events: OperationEvents;
  /** For /readyz: does the database answer? */
  databaseReady: () => Promise<boolean>;
  log: Logger;
  page: PageConfig;
  /** Folder of index.html, style.css and the page's ES modules in js/. */
  publicDir: string;
  /** supabase-js UMD build, served as /vendor/supabase.js (no CDN). */
  supabaseUmdFile: string;
  /** For /readyz: is the Pulumi CLI there? */
  cliPresent: () => boolean;
  maxBodyBytes?: number;
  /** SSE keep-alive comment interval (default 15 s). */
  heartbeatMs?: number;
}

type Handler = (ctx: RequestContext) => Promise<void>;

interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  url: URL;
  caller: () => Promise<Caller>;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

// Tenant routes match the schema's one id rule (its groups made non-capturing): params[0] is the id.
const ID = `(${TENANT_ID_PATTERN.source.replace(/^\^|\$$/g, "").replace(/\((?!\?)/g, "(?:")})`;
const OP_ID = "(op_[A-Za-z0-9_-]{1,64})";
// Only the characters backup names use; the name rule itself (parseBackupName) decides after.
const BACKUP_NAME = "([A-Za-z0-9._-]{1,200})";
const API_HEADERS = { "Cache-Control": "no-store" };

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.status, err.body(), { ...err.headers });
}

/** Reads a JSON object body: content type, size limit, syntax; `{}` when there is none. */
async function readJsonObject(req: http.IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = req.headers["content-length"];
  const hasBody = (declared !== undefined && declared !== "0") || req.headers["transfer-encoding"] !== undefined;
  if (!hasBody) return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    req.resume();
    throw new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
  }
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw new ApiError(413, "body_too_large", `the body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk as Buffer);
    // Past any reasonable size, stop reading instead of draining.
    if (size > limit * 64) {
      req.destroy();
      break;
    }
  }
  if (tooLarge) throw new ApiError(413, "body_too_large", `the body is larger than ${limit} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ApiError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "invalid_body", "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function sseWrite(res: http.ServerResponse, entry: { seq: number; at: string; event: object }): void {
  res.write(`id: ${entry.seq}\ndata: ${JSON.stringify({ seq: entry.seq, at: entry.at, ...entry.event })}\n\n`);
}

/** The page's ES modules (public/js/*.js), served as they are: no bundler. */
function pageModules(publicDir: string): Set<string> {
  const dir = path.join(publicDir, "js");
  if (!fs.existsSync(dir)) return new Set();
  return new Set(fs.readdirSync(dir).filter((name) => /^[a-z][a-z0-9-]*\.js$/.test(name)));
}

const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

export function createHttpServer(options: HttpServerOptions): http.Server {
  const { service, auth, events, log } = options;
  const tickets = new DownloadTickets();
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const supabaseOrigin = new URL(options.page.supabaseUrl).origin;
  const pageHeaders = {
    "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${supabaseOrigin}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
  };
  const files = new Map<string, Buffer>();
  const staticFile = (name: string): Buffer => {
    let data = files.get(name);
    if (!data) {
      data = fs.readFileSync(name === "supabase.js" ? options.supabaseUmdFile : path.join(options.publicDir, name));
      files.set(name, data);
    }
    return data;
  };
  const configJs = `window.ODOO_SAAS_CONFIG = ${JSON.stringify({ supabaseUrl: options.page.supabaseUrl, supabaseAnonKey: options.page.supabaseAnonKey })};\n`;

  const routes: Route[] = [];
  const route = (method: string, pattern: string, handler: Handler): void => {
    routes.push({ method, pattern: new RegExp(`^${pattern}$`), handler });
  };

  route("GET", "/healthz", async ({ res }) => send(res, 200, { status: "ok" }));
  route("GET", "/readyz", async ({ res }) => {
    const checks = { cli: options.cliPresent(), database: await options.databaseReady() };
    send(res, checks.cli && checks.database ? 200 : 503, { status: checks.cli && checks.database ? "ready" : "not ready", checks });
  });
  route("GET", "/config\\.js", async ({ res }) => {
    res.writeHead(200, { ...pageHeaders, "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" });
    res.end(configJs);
  });
  route("GET", "/vendor/supabase\\.js", async ({ res }) => {
    const data = staticFile("supabase.js");
    res.writeHead(200, { ...pageHeaders, "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600" });
    res.end(data);
  });
  for (const [urlPath, { file, type }] of Object.entries(STATIC)) {
    route("GET", urlPath.replace(/\./g, "\\."), async ({ res }) => {
      const data = staticFile(file);
      res.writeHead(200, { ...pageHeaders, "Content-Type": type, "Cache-Control": "no-cache" });
      res.end(data);
    });
  }

  // Modules need a JavaScript type (browsers refuse others with nosniff); CSP script-src 'self' covers them.
  const modules = pageModules(options.publicDir);
  route("GET", "/js/([a-z][a-z0-9-]*\\.js)", async ({ res, params }) => {
    const name = params[0] as string;
    if (!modules.has(name)) throw new ApiError(404, "not_found", "no such page");
    const data = staticFile(path.join("js", name));
    res.writeHead(200, { ...pageHeaders, "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" });
    res.end(data);
  });

  route("GET", "/api/config/public", async ({ res }) => send(res, 200, service.publicConfig()));
  route("GET", "/api/check-id", async ({ res, url, caller }) => {
    const who = await caller();
    const id = url.searchParams.get("id");
    if (id === null) throw new ApiError(400, "missing_parameter", "add ?id=<name>", "id");
    send(res, 200, await service.checkId(who, id));
  });
  route("POST", "/api/tenants", async ({ req, res, caller }) => {
    const who = await caller();
    const body = await readJsonObject(req, maxBody);
    const result = await service.create(who, body);
    send(res, 202, result, { Location: `/api/operations/${result.operation.id}` });
  });
  // Who the token says the caller is, so the page shows administrators their view without probing.
  route("GET", "/api/me", async ({ res, caller }) => {
    const me = await caller();
    send(res, 200, { sub: me.sub, email: me.email ?? null, isAdmin: me.isAdmin });
  });
  route("GET", "/api/tenants", async ({ res, caller }) => {
    const who = await caller();
    send(res, 200, { tenants: await service.list(who), limit: await service.usage(who) });
  });
  route("GET", `/api/tenants/${ID}`, async ({ res, params, caller }) => {
    send(res, 200, await service.get(await caller(), params[0] as string));
  });
  route("DELETE", `/api/tenants/${ID}`, async ({ req, res, params, caller }) => {
    const who = await caller();
    rejectUnknownFields(await readJsonObject(req, maxBody), new Set());
    const result = await service.request(who, params[0] as string, "delete");
    send(res, 202, result, { Location: `/api/operations/${result.operation.id}` });
  });
  for (const kind of ["suspend", "resume"] as const) {
    route("POST", `/api/tenants/${ID}/${kind}`, async ({ req, res, params, caller }) => {
      const who = await caller();
      rejectUnknownFields(await readJsonObject(req, maxBody), new Set());
      const result = await service.request(who, params[0] as string, kind);
      send(res, 202, result, { Location: `/api/operations/${result.operation.id}` });
    });
  }
  route("GET", `/api/tenants/${ID}/credentials`, async ({ res, params, caller }) => {
    send(res, 200, await service.credentials(await caller(), params[0] as string));
  });
  route("GET", `/api/tenants/${ID}/backups`, async ({ res, params, caller }) => {
    send(res, 200, await options.backups.list(await caller(), params[0] as string));
  });
  route("POST", `/api/tenants/${ID}/backups`, async ({ req, res, params, caller }) => {
    const who = await caller();
    rejectUnknownFields(await readJsonObject(req, maxBody), new Set());
    send(res, 202, await options.backups.request(who, params[0] as string));
  });
  // `Accept: application/json` (the page, which has the token): where to download, as
  // `{url, expiresAt}`: S3's pre-signed URL, or this route with a short-lived `?ticket=`.
  // Otherwise (a token or a ticket): 302 to the pre-signed URL, or the zip streamed from here.
  route("GET", `/api/tenants/${ID}/backups/${BACKUP_NAME}/download`, async ({ req, res, params, url, caller }) => {
    const id = params[0] as string;
    const name = params[1] as string;
    const ticket = url.searchParams.get("ticket");
    let who: Caller;
    if (ticket !== null) {
      const ticketed = tickets.verify(ticket, id, name);
      if (ticketed === undefined) throw new ApiError(404, "not_found", "this download link is not valid: links last 5 minutes; start the download again");
      who = ticketed;
    } else who = await caller();
    const wantsLink = ticket === null && (req.headers.accept ?? "").includes("application/json");
    const found = await options.backups.download(who, id, name, wantsLink ? "link" : "content");
    if (found.type === "through-server") {
      const issued = tickets.issue(who, id, name);
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
    if (req.method === "HEAD") {
      found.body.destroy();
      res.end();
      return;
    }
    await pipeline(found.body, res).catch((err: unknown) => {
      // Headers are gone: a broken download can only be cut short, so the browser reports it failed.
      log.log("warn", "backup download interrupted", { tenant: id, error: (err as Error).message });
      res.destroy();
    });
  });
  for (const r of options.uploads ? uploadRoutes(options.uploads, ID) : []) route(r.method, r.pattern, r.handler);
  route("GET", `/api/operations/${OP_ID}`, async ({ res, params, caller }) => {
    const who = await caller();
    send(res, 200, operationView(await service.operation(who, params[0] as string), who.isAdmin ? "admin" : "customer"));
  });
  route("GET", `/api/operations/${OP_ID}/events`, async ({ req, res, params, url, caller }) => {
    const who = await caller();
    const op = await service.operation(who, params[0] as string);
    // Customers read steps in their words; the raw engine stream is for administrators.
    const raw = url.searchParams.get("view") === "admin";
    if (raw) requireAdmin(who);
    const progress = new CustomerProgress(op);
    const write = (entry: ProgressEntry): void => {
      if (raw) sseWrite(res, entry);
      else for (const converted of progress.entries(entry)) sseWrite(res, converted);
    };
    const lastId = Number.parseInt(String(req.headers["last-event-id"] ?? "0"), 10);
    const after = Number.isInteger(lastId) && lastId > 0 ? lastId : 0;
    res.writeHead(200, { ...API_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.write(`retry: 2000\n\n`);
    // Persisted events: the history first (whichever process ran it), then what any process appends.
    const history = await events.history(op.id, after);
    for (const entry of history) write(entry);
    if (history.some((entry) => isTerminal(entry.event))) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
      const stop = (): void => {
        clearInterval(heartbeat);
        unsubscribe();
        resolve();
      };
      const unsubscribe = events.subscribe(op.id, history.at(-1)?.seq ?? after, (entry) => {
        write(entry);
        if (isTerminal(entry.event)) {
          stop();
          res.end();
        }
      });
      req.on("close", stop);
    });
  });
  route("GET", "/api/admin/tenant-ids", async ({ res, caller }) => send(res, 200, await options.admin.tenantIds(await caller())));
  route("GET", "/api/admin/operations", async ({ res, caller }) => send(res, 200, await options.admin.operations(await caller())));
  route("GET", "/api/admin/overview", async ({ res, caller }) => send(res, 200, await options.admin.overview(await caller())));

  let requestCounter = 0;
  return http.createServer((req, res) => {
    const started = Date.now();
    const reference = `req-${process.pid}-${++requestCounter}`;
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      sendError(res, new ApiError(400, "bad_request", "malformed request target"));
      return;
    }
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const found = matching.find((r) => r.method === req.method || (req.method === "HEAD" && r.method === "GET"));
    res.on("finish", () => {
      log.log(res.statusCode >= 500 ? "warn" : "debug", "request", { method: req.method, path: url.pathname, status: res.statusCode, ms: Date.now() - started, ref: reference });
    });
    if (!found) {
      req.resume();
      if (matching.length > 0) {
        const allow = [...new Set(matching.map((r) => r.method))].join(", ");
        sendError(res, new ApiError(405, "method_not_allowed", `${req.method ?? ""} is not allowed here (allowed: ${allow})`, undefined, { Allow: allow }));
      } else {
        sendError(res, new ApiError(404, "not_found", url.pathname.startsWith("/api/") ? "no such API route" : "no such page"));
      }
      return;
    }
    let cached: Promise<Caller> | undefined;
    const ctx: RequestContext = {
      req,
      res,
      url,
      params: (found.pattern.exec(url.pathname) ?? []).slice(1),
      caller: () => (cached ??= auth.authenticate(req.headers.authorization)),
    };
    found.handler(ctx).catch((err: unknown) => {
      if (err instanceof ApiError) {
        // A rejected body may still be arriving: read it so the client receives the answer.
        if (!req.complete) req.resume();
        sendError(res, err);
        return;
      }
      log.log("error", `unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { ref: reference });
      sendError(res, new ApiError(500, "internal_error", `something went wrong on our side (reference ${reference})`));
    });
  });
}
