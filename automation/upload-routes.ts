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
import { ID, RouteTable, send, type RouteDef } from "./http-io";
import type { UploadService } from "./upload-service";

const UPLOAD_ID = "(up_[A-Za-z0-9_-]{1,32})";
const LINGER_MS = 3000;

/** Answers now and closes the connection after a short linger, however much body is still coming. */
function refuseUpload(req: http.IncomingMessage, res: http.ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, err.status, err.body(), { ...err.headers, Connection: "close" });
  if (!req.complete) {
    req.resume();
    res.on("finish", () => setTimeout(() => req.destroy(), LINGER_MS).unref());
  }
}

export function uploadRoutes(uploads: UploadService): RouteDef[] {
  const routes = new RouteTable();
  routes.add("GET", `/api/tenants/${ID}/uploads`, async ({ res, params, caller }) => {
    send(res, 200, await uploads.overview(await caller(), params[0] as string));
  });
  // The upload's own deadline (its size at the slowest accepted rate) replaces the server's request timeout.
  routes.add("POST", `/api/tenants/${ID}/uploads`, async ({ req, res, params, caller }) => {
    const tenant = params[0] as string;
    try {
      const upload = await uploads.receive(await caller(), tenant, req);
      send(res, 202, { upload }, { Location: `/api/tenants/${tenant}/uploads/${upload.id}` });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refuseUpload(req, res, err);
    }
  }, { ownDeadline: true });
  routes.add("GET", `/api/tenants/${ID}/uploads/${UPLOAD_ID}`, async ({ res, params, caller }) => {
    send(res, 200, await uploads.status(await caller(), params[0] as string, params[1] as string));
  });
  return routes.declared();
}
