/**
 * `GET /metrics` for Prometheus, behind a bearer token of its own (ODOO_SAAS_METRICS_TOKEN,
 * compared in constant time): the numbers say how busy the platform is and how many tenants it
 * has, which is not every visitor's business. Without the setting the route refuses to serve
 * (503): there is no unprotected default. Also the route label of a request: its pattern with
 * named placeholders, never the raw path (which holds tenant ids).
 */
import * as crypto from "node:crypto";
import { ApiError } from "./api-error";
import { BACKUP_NAME, ID, OP_ID, type RouteDef } from "./http-io";
import type { ServerMetrics } from "./metrics";

/** The shortest token accepted: 32 characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_METRICS_TOKEN_LENGTH = 32;

/** True when `header` is `Bearer <token>`; the comparison takes as long whatever the guess. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? "");
  const given = crypto.createHash("sha256").update(match?.[1] ?? "").digest();
  const wanted = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(given, wanted) && match !== null;
}

/** `/api/tenants/${ID}/backups` -> `/api/tenants/:id/backups`; other groups become `:param`. */
export function routeLabel(pattern: string): string {
  return pattern
    .split(ID).join(":id")
    .split(OP_ID).join(":operation")
    .split(BACKUP_NAME).join(":backup")
    .replace(/\((?:[^()]|\([^()]*\))*\)/g, ":param")
    .replace(/\\(.)/g, "$1");
}

export function metricsRoute(metrics: ServerMetrics, token: string | undefined): RouteDef {
  return {
    method: "GET",
    pattern: "/metrics",
    handler: async ({ req, res }) => {
      if (token === undefined) throw new ApiError(503, "metrics_disabled", "metrics are not served: set ODOO_SAAS_METRICS_TOKEN on this server");
      if (!bearerMatches(req.headers.authorization, token)) {
        throw new ApiError(401, "unauthorized", "send the metrics token as Authorization: Bearer <token>", undefined, { "WWW-Authenticate": "Bearer realm=\"metrics\"" });
      }
      const { contentType, text } = await metrics.scrape();
      res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    },
  };
}
