/**
 * Receives an uploaded zip into a private temporary file, never into memory, with a hard size
 * limit: a declared Content-Length over the limit is refused before a byte is read, and a body
 * that grows past it while streaming is cut off there (no chunked body can slip by). A body
 * that has not arrived by its deadline (upload-admission.ts: its size at the slowest accepted
 * rate) is cut off with 408. Any refusal or broken upload removes the file.
 */
import { createWriteStream, promises as fsp } from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { ApiError } from "./api-error";

export const ZIP_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/octet-stream"]);

export class UploadTooLargeError extends ApiError {
  constructor(readonly maxBytes: number) {
    super(413, "upload_too_large", `the file is larger than your plan allows for an uploaded database (${formatSize(maxBytes)})`);
  }
}

/** Customer words: "1.5 GB", "800 MB" (decimal units, as file managers show them). */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${Number((bytes / 1e9).toFixed(1))} GB`;
  if (bytes >= 1e6) return `${Number((bytes / 1e6).toFixed(1))} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

class SizeLimit extends Transform {
  bytes = 0;
  constructor(private readonly max: number, private readonly onBytes: (total: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      done(new UploadTooLargeError(this.max));
      return;
    }
    this.onBytes(this.bytes);
    done(null, chunk);
  }
}

export interface ReceivedUpload {
  file: string;
  bytes: number;
}

/** Checks the request's headers alone (type, declared size); throws an ApiError. */
export function checkUploadHeaders(req: http.IncomingMessage, maxBytes: number): void {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!ZIP_TYPES.has(type)) throw new ApiError(415, "unsupported_media_type", "send the zip file itself as the body, with Content-Type: application/zip");
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) throw new UploadTooLargeError(maxBytes);
  if (declared === "0") throw new ApiError(400, "empty_upload", "the file is empty");
}

/**
 * Streams the body into `<dir>/upload.zip` (dir: private, made by the caller). Past the limit the
 * request is unpiped, not destroyed, so the caller can still answer 413 on the same connection.
 */
export interface ReceiveOptions {
  maxBytes: number;
  /** Date.now() by which the whole body must have arrived. */
  deadline: number;
  /** Said to the customer when the deadline passes. */
  tooSlow: string;
  onBytes?: (total: number) => void;
}

export async function receiveUpload(req: http.IncomingMessage, dir: string, options: ReceiveOptions): Promise<ReceivedUpload> {
  const file = path.join(dir, "upload.zip");
  const limit = new SizeLimit(options.maxBytes, options.onBytes ?? (() => undefined));
  const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      // The client may have gone while the upload was admitted and checked: its close was emitted then.
      if (req.destroyed && !req.complete) {
        reject(new ApiError(400, "upload_broken", "the upload broke off before the whole file arrived; please try again"));
        return;
      }
      timer = setTimeout(() => {
        req.unpipe(limit);
        out.destroy();
        reject(new ApiError(408, "upload_too_slow", options.tooSlow));
      }, Math.max(0, options.deadline - Date.now()));
      let ended = false;
      req.on("end", () => (ended = true));
      req.on("close", () => {
        if (!ended) reject(new ApiError(400, "upload_broken", "the upload broke off before the whole file arrived; please try again"));
      });
      req.on("error", () => reject(new ApiError(400, "upload_broken", "the upload broke off before the whole file arrived; please try again")));
      limit.on("error", (err) => {
        req.unpipe(limit);
        out.destroy();
        reject(err);
      });
      out.on("error", reject);
      out.on("finish", () => resolve());
      req.pipe(limit).pipe(out);
    });
  } catch (err) {
    out.destroy();
    await fsp.rm(file, { force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (limit.bytes === 0) {
    await fsp.rm(file, { force: true });
    throw new ApiError(400, "empty_upload", "the file is empty");
  }
  return { file, bytes: limit.bytes };
}
