/**
 * What every route module of the signup server shares: the one way a route is declared
 * (RouteTable: method, path pattern, handler), the request context, the id patterns (tenant ids
 * by the schema's one rule), JSON answers and errors, the bounded JSON body reader and the
 * Server-Sent Events writer. No handler parses the method or the path itself.
 */
import type * as http from "node:http";
import { TENANT_ID_PATTERN } from "../tenants/tenant-id";
import { ApiError } from "./api-error";
import type { Caller } from "./auth";

/** `C`: the request context; the signup server's by default (a stand-in server may have its own). */
export type Handler<C = RequestContext> = (ctx: C) => Promise<void>;

export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  url: URL;
  caller: () => Promise<Caller>;
}

export interface Route<C = RequestContext> {
  method: HttpMethod;
  pattern: RegExp;
  handler: Handler<C>;
  /** The handler bounds how long its body may take (uploads); others get the server's request timeout. */
  ownDeadline?: boolean;
  /** The pattern with named placeholders (metrics-route.ts), for metrics and logs: never the raw path. */
  label?: string;
}

// Tenant routes match the schema's one id rule (its groups made non-capturing): params[0] is the id.
export const ID = `(${TENANT_ID_PATTERN.source.replace(/^\^|\$$/g, "").replace(/\((?!\?)/g, "(?:")})`;
export const OP_ID = "(op_[A-Za-z0-9_-]{1,64})";
// Only the characters backup names use; the name rule itself (parseBackupName) decides after.
export const BACKUP_NAME = "([A-Za-z0-9._-]{1,200})";
export const API_HEADERS = { "Cache-Control": "no-store" };

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.status, err.body(), { ...err.headers });
}

/** Reads a JSON object body: content type, size limit, syntax; `{}` when there is none. */
export async function readJsonObject(req: http.IncomingMessage, limit: number): Promise<Record<string, unknown>> {
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

export function sseWrite(res: http.ServerResponse, entry: { seq: number; at: string; event: object }): void {
  res.write(`id: ${entry.seq}\ndata: ${JSON.stringify({ seq: entry.seq, at: entry.at, ...entry.event })}\n\n`);
}


/** The methods routes are declared for; HEAD is served by the GET route (the handler sees req.method). */
export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** A route before registration: its pattern is a string of the path, anchored by the server. */
export interface RouteDef<C = RequestContext> {
  method: HttpMethod;
  pattern: string;
  handler: Handler<C>;
  /** The handler bounds how long its body may take (uploads); others get the server's request timeout. */
  ownDeadline?: boolean;
}

/** Where routes are declared, by the server and by every route module, the same way. */
export class RouteTable<C = RequestContext> {
  private readonly defs: RouteDef<C>[] = [];

  /** `pattern`: the path as a regular expression source, matched whole; its groups are ctx.params. */
  add(method: HttpMethod, pattern: string, handler: Handler<C>, options: { ownDeadline?: boolean } = {}): void {
    this.defs.push({ method, pattern, handler, ...(options.ownDeadline === true ? { ownDeadline: true } : {}) });
  }

  /** Another module's routes, as they were declared. */
  include(defs: readonly RouteDef<C>[]): void {
    this.defs.push(...defs);
  }

  declared(): RouteDef<C>[] {
    return [...this.defs];
  }

  /** For the server: each pattern anchored to the whole path. */
  compiled(): Route<C>[] {
    return this.defs.map((d) => ({ method: d.method, pattern: new RegExp(`^${d.pattern}$`), handler: d.handler, ownDeadline: d.ownDeadline === true }));
  }
}
