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
import { ApiError } from "./api-error";
import type { Authenticator, Caller } from "./auth";
import { backupRoutes } from "./backup-routes";
import type { BackupService } from "./backup-service";
import type { DownloadTickets } from "./download-tickets";
import { ID, readJsonObject, RouteTable, send, sendError, type Handler, type HttpMethod, type RequestContext, type Route } from "./http-io";
import { requestIdFrom, withLogContext, type Logger } from "./log";
import type { ServerMetrics } from "./metrics";
import { metricsRoute, routeLabel } from "./metrics-route";
import type { AdminService } from "./admin-service";
import type { OperationEvents } from "./operation-events";
import { operationRoutes } from "./operation-routes";
import type { StreamSlots } from "./stream-slots";
import { rejectUnknownFields, type TenantService } from "./tenant-service";
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
  /**
   * How long a request's body may take to arrive, except on routes with their own deadline
   * (uploads): Node's own default, 300 s. Node's requestTimeout is one per server, so it is off
   * (0) and this is enforced per request here instead; headers must still arrive within 60 s.
   */
  requestTimeoutMs?: number;
  /** SSE keep-alive comment interval (default 15 s). */
  heartbeatMs?: number;
  /** Download links of archives this server streams (kept in PostgreSQL: any server honours them). */
  tickets: DownloadTickets;
  /** Caps on open SSE streams; default DEFAULT_STREAM_CAPS. */
  streams?: StreamSlots;
  /** Counts requests by route and code, and serves GET /metrics (behind `metricsToken`). */
  metrics?: ServerMetrics;
  /** ODOO_SAAS_METRICS_TOKEN; unset: /metrics refuses to serve. */
  metricsToken?: string;
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

  const table = new RouteTable();
  const route = (method: HttpMethod, pattern: string, handler: Handler): void => table.add(method, pattern, handler);

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
  table.include(backupRoutes(options.backups, options.tickets, log, maxBody));
  if (options.uploads) table.include(uploadRoutes(options.uploads));
  table.include(operationRoutes({
    service, events,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.streams !== undefined ? { streams: options.streams } : {}),
  }));
  route("GET", "/api/admin/tenant-ids", async ({ res, caller }) => send(res, 200, await options.admin.tenantIds(await caller())));
  route("GET", "/api/admin/operations", async ({ res, caller }) => send(res, 200, await options.admin.operations(await caller())));
  route("GET", "/api/admin/overview", async ({ res, caller }) => send(res, 200, await options.admin.overview(await caller())));
  if (options.metrics) {
    table.include([metricsRoute(options.metrics, options.metricsToken)]);
  }

  // Metrics and logs name a route by its pattern with placeholders, never by the raw path.
  const declared = table.declared();
  const routes: Route[] = table.compiled().map((r, i) => ({ ...r, label: routeLabel(declared[i]!.pattern) }));
  const requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
  /** Node's requestTimeout answer, for one request: 408 if the body has not all arrived by then. */
  const bodyDeadline = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (req.complete) return;
      if (!res.headersSent) {
        sendError(res, new ApiError(408, "request_timeout", "the request took too long to arrive", undefined, { Connection: "close" }));
        res.on("finish", () => req.destroy());
      } else {
        req.destroy();
      }
    }, requestTimeoutMs);
    req.once("end", () => clearTimeout(timer));
    res.once("close", () => clearTimeout(timer));
  };

  return http.createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    const started = Date.now();
    // Follows the request's operation through the queue to the engine (log.ts); also the 500's reference.
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    res.setHeader("X-Request-Id", requestId);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      bodyDeadline(req, res);
      options.metrics?.httpRequests.inc({ method: methodLabel(req.method), route: "malformed", code: "400" });
      sendError(res, new ApiError(400, "bad_request", "malformed request target"));
      return;
    }
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const found = matching.find((r) => r.method === req.method || (req.method === "HEAD" && r.method === "GET"));
    if (found?.ownDeadline !== true) bodyDeadline(req, res);
    const routeName = (found ?? matching[0])?.label ?? "unmatched";
    res.on("finish", () => {
      options.metrics?.httpRequests.inc({ method: methodLabel(req.method), route: routeName, code: String(res.statusCode) });
      log.log(res.statusCode >= 500 ? "warn" : found?.method === "GET" || !found ? "debug" : "info", "request", {
        method: req.method, route: routeName, path: url.pathname, status: res.statusCode, ms: Date.now() - started, requestId,
      });
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
    withLogContext({ requestId }, () => found.handler(ctx)).catch((err: unknown) => {
      if (err instanceof ApiError) {
        // A rejected body may still be arriving: read it so the client receives the answer.
        if (!req.complete) req.resume();
        sendError(res, err);
        return;
      }
      log.log("error", `unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { requestId });
      sendError(res, new ApiError(500, "internal_error", `something went wrong on our side (reference ${requestId})`));
    });
  });
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A bounded label: the standard methods, else "other". */
function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : "other";
}
