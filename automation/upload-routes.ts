/**
 * The upload routes, registered by http-server.ts: the limit and recent uploads, the upload
 * itself (the zip as the raw body, Content-Type application/zip: no multipart parser, nothing
 * buffered), and one upload's status with its phases.
 *
 * An upload refused before its body was read (413 by Content-Length, 404, 409, 415, 429, 507) or
 * cut off (413 past the limit, 408 past its deadline) is answered
 * at once with `Connection: close`; the rest of the body is then read and discarded for at most a
 * few seconds, so the client sees the answer rather than a reset, and a multi-gigabyte body is
 * not drained.
 */
import type * as http from "node:http";
import { ApiError } from "./api-error";
import type { Caller } from "./auth";
import type { UploadService } from "./upload-service";

interface UploadRouteContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  caller: () => Promise<Caller>;
}

export interface UploadRoute {
  method: string;
  pattern: string;
  handler: (ctx: UploadRouteContext) => Promise<void>;
  /** The upload's own deadline (its size at the slowest accepted rate) replaces the server's request timeout. */
  ownDeadline?: boolean;
}

const UPLOAD_ID = "(up_[A-Za-z0-9_-]{1,32})";
const LINGER_MS = 3000;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Cache-Control": "no-store", "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers now and closes the connection after a short linger, however much body is still coming. */
function refuseUpload(req: http.IncomingMessage, res: http.ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.body(), { ...err.headers, Connection: "close" });
  if (!req.complete) {
    req.resume();
    res.on("finish", () => setTimeout(() => req.destroy(), LINGER_MS).unref());
  }
}

/** `id`: the tenant id pattern of http-server.ts (one capturing group). */
export function uploadRoutes(uploads: UploadService, id: string): UploadRoute[] {
  return [
    {
      method: "GET",
      pattern: `/api/tenants/${id}/uploads`,
      handler: async ({ res, params, caller }) => sendJson(res, 200, await uploads.overview(await caller(), params[0] as string)),
    },
    {
      method: "POST",
      pattern: `/api/tenants/${id}/uploads`,
      ownDeadline: true,
      handler: async ({ req, res, params, caller }) => {
        const tenant = params[0] as string;
        try {
          const upload = await uploads.receive(await caller(), tenant, req);
          sendJson(res, 202, { upload }, { Location: `/api/tenants/${tenant}/uploads/${upload.id}` });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          refuseUpload(req, res, err);
        }
      },
    },
    {
      method: "GET",
      pattern: `/api/tenants/${id}/uploads/${UPLOAD_ID}`,
      handler: async ({ res, params, caller }) => sendJson(res, 200, await uploads.status(await caller(), params[0] as string, params[1] as string)),
    },
  ];
}
